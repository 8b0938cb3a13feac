// What we send over SSH reaches the node's /bin/sh intact whatever the user's login shell is:
// sshd runs `$SHELL -c LINE`, and fish and tcsh read quotes, backslashes, `!` and newlines by
// their own rules. Throwaway users with those login shells on the loopback sshd run a quoting
// torture line and a real trace whose script name is built to break out under fish.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TraceEvent } from '../../../common/events';
import { probeNode } from '../../../core/nodes/probe';
import { shellCommand } from '../../../core/nodes/shell';
import { execOnNode } from '../../../core/nodes/transport';
import { connectSsh } from '../../../core/ssh/client';
import { TraceSession } from '../../../core/trace/session';
import { TraceStreamParser } from '../../../core/trace/stream-parser';
import { type SshdHarness, sshdAvailable, startSshd } from '../../helpers/sshd';
import { bpftraceAvailable, canCreateUsers, createTestUser, type TestUser } from '../../helpers/users';

const ready = sshdAvailable() && canCreateUsers() && bpftraceAvailable();
const SHELLS = ['/usr/bin/fish', '/usr/bin/tcsh', '/bin/bash'];
if (process.env.CI === 'true')
  for (const shell of SHELLS) assert.ok(existsSync(shell), `${shell} is missing and CI=true`);

const TRICKY = [
  "x'; touch pwned; echo '",
  'back\\slash \\\\ \\n',
  '$HOME `id` $(id) %s',
  '!! !$ !1 history',
  'new\nline',
  '"double" (paren) {brace} ; & | > < * ? ~ #',
  'ünï©ødé',
];

describe('commands over SSH with a non-POSIX login shell', { skip: !ready }, () => {
  let sshd: SshdHarness;
  const users: TestUser[] = [];
  before(async () => {
    sshd = await startSshd();
  });
  after(async () => {
    for (const u of users) u.remove();
    await sshd?.stop();
  });

  for (const shell of SHELLS) {
    it(
      `${path.basename(shell)}: every byte of our words arrives, and a hostile script name stays a name`,
      {
        timeout: 90_000,
        skip: !existsSync(shell) && process.env.CI !== 'true' ? `${shell} is missing` : false,
      },
      async () => {
        const user = createTestUser(sshd.dir, `ft${path.basename(shell)}`, { sudo: true, shell });
        users.push(user);
        sshd.authorize(user.name);
        sshd.addLoopbackHost(user.name, user.name);
        const conn = await connectSsh(user.name, {
          env: sshd.env,
          callbacks: { confirmUnknownHostKey: async () => assert.fail('the harness trusts its key') },
        });
        try {
          const r = await execOnNode(conn, shellCommand(['printf', '[%s]', ...TRICKY]), {
            timeoutMs: 20_000,
          });
          assert.equal(r.stderr, '');
          assert.equal(r.stdout, TRICKY.map((w) => `[${w}]`).join(''));
          assert.equal(r.code, 0);

          const marker = path.join(sshd.dir, `pwned-${path.basename(shell)}`);
          const events: TraceEvent[] = [];
          const session = await TraceSession.start({
            transport: conn,
            probe: await probeNode(conn),
            script: 'BEGIN { printf("ran\\n"); exit(); }\n',
            scriptName: `x'; touch ${marker}; echo '.bt`,
            logDir: path.join(sshd.dir, 'logs'),
            parser: new TraceStreamParser(),
            onEvent: (e) => events.push(e.event),
          });
          const end = await session.ended;
          assert.equal(end.exitCode, 0, JSON.stringify(events));
          assert.ok(
            events.some((e) => e.type === 'output' && e.text.includes('ran')),
            JSON.stringify(events),
          );
          assert.ok(!existsSync(marker), 'the script name ran no command');
        } finally {
          conn.close();
        }
      },
    );
  }
});
