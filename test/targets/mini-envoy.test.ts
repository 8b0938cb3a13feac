import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import { test } from 'node:test';
import { buildMiniEnvoy, startMiniEnvoy, type MiniEnvoy } from './mini-envoy';
import { connectAndClose, openIdle } from '../helpers/net';
import { workerStats } from '../helpers/envoy-admin';

const compilers = ['g++', 'clang++'].every((c) => spawnSync(c, ['--version']).status === 0);
const skip =
  process.env.CI !== 'true' && !compilers ? 'needs g++ and clang++ (required when CI=true)' : false;

async function adminFetch(envoy: MiniEnvoy, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${envoy.adminPort}${path}`, {
    signal: AbortSignal.timeout(5000),
  });
  return { status: response.status, body: await response.text() };
}

async function adminGet(envoy: MiniEnvoy, path: string): Promise<string> {
  const { status, body } = await adminFetch(envoy, path);
  assert.equal(status, 200, `GET ${path}: ${body}`);
  return body;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface StatsJson {
  stats: { name: string; value: number }[];
}

for (const variant of ['gcc', 'clang', 'clangO2'] as const) {
  for (const reusePort of [false, true]) {
    test(
      `mini-Envoy (${variant}, ${reusePort ? 'reuse-port' : 'dup per worker'}) serves its admin API and counts accepts per worker`,
      { skip },
      async (t) => {
        const binaries = await buildMiniEnvoy();
        const envoy = await startMiniEnvoy({
          binary: binaries[variant],
          reusePort,
          concurrency: 3,
          listeners: ['127.0.0.1:0', '[::1]:0'],
        });
        t.after(() => envoy.stop());
        assert.equal(envoy.ports.length, 2);
        assert.equal(envoy.concurrency, 3);

        const listeners = JSON.parse(await adminGet(envoy, '/listeners?format=json')) as {
          listener_statuses: {
            name: string;
            local_address: { socket_address: { address: string; port_value: number } };
          }[];
        };
        assert.deepEqual(
          listeners.listener_statuses.map((l) => [
            l.local_address.socket_address.address,
            l.local_address.socket_address.port_value,
          ]),
          [
            ['127.0.0.1', envoy.ports[0]],
            ['::1', envoy.ports[1]],
          ],
        );
        const info = JSON.parse(await adminGet(envoy, '/server_info')) as {
          version: string;
          command_line_options: { concurrency: number };
        };
        assert.equal(info.command_line_options.concurrency, 3);
        assert.match(info.version, reusePort ? /\/1\.20\.0\// : /\/1\.19\.1\//);

        for (let i = 0; i < 30; i++) await connectAndClose(envoy.ports[0], '127.0.0.1');
        for (let i = 0; i < 10; i++) await connectAndClose(envoy.ports[1], '::1');
        const filter = encodeURIComponent('^listener\\..*worker_\\d+\\.downstream_cx_total$');
        const perWorker = await waitFor('per-worker counters', async () => {
          const stats = JSON.parse(await adminGet(envoy, `/stats?format=json&filter=${filter}`)) as StatsJson;
          const total = stats.stats.reduce((sum, s) => sum + s.value, 0);
          return total === 40 ? stats.stats : undefined;
        });
        const v4 = perWorker.filter((s) => s.name.startsWith(`listener.127.0.0.1_${envoy.ports[0]}.worker_`));
        assert.equal(v4.length, 3, 'one counter per worker');
        assert.equal(
          v4.reduce((sum, s) => sum + s.value, 0),
          30,
        );
        const text = await adminGet(envoy, '/stats');
        assert.match(text, /^server\.concurrency: 3$/m);

        const { code, signal } = await envoy.stop();
        assert.equal(code, 0, `clean exit on SIGTERM (signal ${signal}, stderr ${envoy.stderr()})`);
      },
    );
  }
}

test('mini-Envoy rejects bad arguments with a message', { skip }, async () => {
  const binaries = await buildMiniEnvoy();
  await assert.rejects(startMiniEnvoy({ binary: binaries.gcc, listeners: ['localhost'] }), /ADDRESS:PORT/);
});

const DYNAMIC_LISTENER = 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump.DynamicListener';
const LISTENER = 'type.googleapis.com/envoy.config.listener.v3.Listener';

interface ConfigDump {
  configs: Record<string, unknown>[];
}

/** The listener config a real Envoy of the layout's version would print for our settings. */
function expectedListener(
  envoy: MiniEnvoy,
  index: number,
  fields: ('name' | 'address' | 'balance' | 'reuse')[],
): Record<string, unknown> {
  const l = envoy.listeners[index];
  const out: Record<string, unknown> = { '@type': LISTENER };
  if (fields.includes('name')) out.name = l.name;
  if (fields.includes('address'))
    out.address = { socket_address: { address: l.address, port_value: l.port } };
  if (fields.includes('balance') && envoy.exactBalance) out.connection_balance_config = { exact_balance: {} };
  if (fields.includes('reuse') && envoy.reusePort) out.enable_reuse_port = true;
  return out;
}

for (const reusePort of [false, true]) {
  for (const exactBalance of [false, true]) {
    const layout = `${reusePort ? '1.20 reuse-port' : '1.19 dup'}${exactBalance ? ', exact balance' : ''}`;
    test(`mini-Envoy (${layout}) dumps its listeners' config as Envoy does`, { skip }, async (t) => {
      const binaries = await buildMiniEnvoy();
      const envoy = await startMiniEnvoy({
        binary: exactBalance ? binaries.clang : binaries.gcc,
        reusePort,
        exactBalance,
        listeners: ['127.0.0.1:0', '[::1]:0'],
      });
      t.after(() => envoy.stop());
      assert.equal(envoy.reusePort, reusePort);
      assert.equal(envoy.exactBalance, exactBalance);

      const dump = JSON.parse(await adminGet(envoy, '/config_dump?resource=dynamic_listeners')) as ConfigDump;
      assert.equal(dump.configs.length, 2);
      dump.configs.forEach((config, i) => {
        assert.equal(config['@type'], DYNAMIC_LISTENER);
        assert.equal(config.name, envoy.listeners[i].name);
        const state = config.active_state as Record<string, unknown>;
        assert.deepEqual(state.listener, expectedListener(envoy, i, ['name', 'address', 'balance', 'reuse']));
        assert.equal(typeof state.version_info, 'string');
        assert.match(String(state.last_updated), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        // proto3 JSON leaves unset fields out: 1.19's false bool reuse_port never prints.
        assert.equal('reuse_port' in (state.listener as object), false);
      });

      // Fieldtrace's mask, encoded as encodeURIComponent does it, plus an encoded underscore.
      const fields = ['address', 'connection_balance_config', ...(reusePort ? ['enable_reuse_port'] : [])];
      const mask = ['name', ...fields.map((f) => `active_state.listener.${f}`)].join(',');
      const masked = JSON.parse(
        await adminGet(
          envoy,
          `/config_dump?resource=dynamic_listeners&mask=${encodeURIComponent(mask).replace(/_/g, '%5F')}`,
        ),
      ) as ConfigDump;
      assert.deepEqual(
        masked.configs,
        envoy.listeners.map((l, i) => ({
          '@type': DYNAMIC_LISTENER,
          name: l.name,
          active_state: { listener: expectedListener(envoy, i, ['address', 'balance', 'reuse']) },
        })),
      );

      // A field the version's Listener lacks is refused, as a newer Envoy validates masks.
      const lacking = await adminFetch(
        envoy,
        `/config_dump?resource=dynamic_listeners&mask=name,active_state.listener.${reusePort ? 'no_such_field' : 'enable_reuse_port'}`,
      );
      assert.equal(lacking.status, 400, lacking.body);
      assert.ok(lacking.body.length < 300 && /FieldMask/.test(lacking.body), lacking.body);
      const bad = await adminFetch(envoy, '/config_dump?resource=dynamic_listeners&mask=name.value');
      assert.equal(bad.status, 400, bad.body);

      assert.deepEqual(JSON.parse(await adminGet(envoy, '/config_dump?resource=static_listeners')), {
        configs: [],
      });
      assert.deepEqual(
        JSON.parse(await adminGet(envoy, '/config_dump?resource=static_listeners&mask=listener.name')),
        { configs: [] },
      );
      const full = JSON.parse(await adminGet(envoy, '/config_dump')) as ConfigDump;
      assert.deepEqual(
        (full.configs[0].dynamic_listeners as Record<string, unknown>[]).map((d) => d.name),
        envoy.listeners.map((l) => l.name),
      );
      assert.equal((await adminFetch(envoy, '/config_dump?resource=clusters')).status, 400);
      assert.equal((await adminFetch(envoy, '/config_dump?resource=dynamic_listeners&nope=1')).status, 400);
    });
  }
}

const WORKERS = 3;
const CONNECTIONS = 12;

/**
 * Waits until the workers own `total` connections on the first listener, and returns each one's
 * count. Once the sum is reached every owner has counted: each pick so far is settled.
 */
function ownedBy(envoy: MiniEnvoy, total: number): Promise<number[]> {
  return waitFor(`${total} connections owned by the workers`, async () => {
    const perWorker = await workerStats(envoy, envoy.ports[0], 'downstream_cx_active');
    return perWorker.reduce((a, b) => a + b, 0) === total ? perWorker : undefined;
  });
}

const spreadOf = (counts: number[]) => Math.max(...counts) - Math.min(...counts);

for (const reusePort of [false, true]) {
  for (const exactBalance of [false, true]) {
    const layout = `${reusePort ? 'reuse-port' : 'dup'}${exactBalance ? ', exact balance' : ''}`;
    test(
      `mini-Envoy (${layout}): idle connections per worker${exactBalance ? ' differ by at most one' : ' (spread recorded)'}`,
      { skip },
      async (t) => {
        const envoy = await startMiniEnvoy({
          reusePort,
          exactBalance,
          concurrency: WORKERS,
          listeners: ['127.0.0.1:0'],
        });
        t.after(() => envoy.stop());
        const sockets: net.Socket[] = [];
        let active: number[] = [];
        for (let i = 1; i <= CONNECTIONS; i++) {
          sockets.push(await openIdle(t, envoy.ports[0]));
          active = await ownedBy(envoy, i);
          // Each step, not only the end: without the balancer the kernel's choice would have to
          // land on a least-loaded worker every time to pass.
          if (exactBalance) assert.ok(spreadOf(active) <= 1, `after ${i} connections: ${active.join(', ')}`);
        }
        t.diagnostic(
          `${layout}: downstream_cx_active per worker after ${CONNECTIONS} idle connections: ` +
            `${active.join(', ')} (spread ${spreadOf(active)})`,
        );

        if (exactBalance) {
          // Ties go to the first handler, so connection i went to the (i mod 3)-th: closing every
          // third empties one worker. Its count must drop, or the next connections would be
          // spread as if it were still full.
          for (let i = 0; i < CONNECTIONS; i += WORKERS) sockets[i].destroy();
          const left = CONNECTIONS - CONNECTIONS / WORKERS;
          active = await ownedBy(envoy, left);
          assert.deepEqual(
            [...active].sort((a, b) => a - b),
            [0, CONNECTIONS / WORKERS, CONNECTIONS / WORKERS],
            `after closing every third connection: ${active.join(', ')}`,
          );
          for (let i = left + 1; i <= CONNECTIONS; i++) {
            await openIdle(t, envoy.ports[0]);
            active = await ownedBy(envoy, i);
          }
          assert.deepEqual(
            active,
            active.map(() => CONNECTIONS / WORKERS),
            `the emptied worker got the new connections: ${active.join(', ')}`,
          );
        }

        const { code, signal } = await envoy.stop();
        assert.equal(
          code,
          0,
          `clean exit with connections open (signal ${signal}, stderr ${envoy.stderr()})`,
        );
      },
    );
  }
}
