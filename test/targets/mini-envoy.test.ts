import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { buildMiniEnvoy, startMiniEnvoy, type MiniEnvoy } from './mini-envoy';
import { connectAndClose } from '../helpers/net';

const compilers = ['g++', 'clang++'].every((c) => spawnSync(c, ['--version']).status === 0);
const skip =
  process.env.CI !== 'true' && !compilers ? 'needs g++ and clang++ (required when CI=true)' : false;

async function adminGet(envoy: MiniEnvoy, path: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${envoy.adminPort}${path}`);
  assert.equal(response.status, 200, `GET ${path}`);
  return response.text();
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
