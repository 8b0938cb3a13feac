// Each listener's balancing settings from Envoy's config_dump: the mask asks only for fields the
// version's Listener has (an unknown path is an error, and crashed Envoy before masks were
// checked), absent fields read as the version's defaults, and an admin read in a session log is
// checked before the reducer trusts it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  directAdminGet,
  listenerConfigMask,
  parseListenerConfigs,
  readAdmin,
} from '../../../core/listeners/admin';
import { validateTraceEvent } from '../../../core/listeners/readers';

const V119 = 'a2a1e3ee/1.19.1/Clean/RELEASE/BoringSSL';
const V130 = '41086109/1.30.2/Clean/RELEASE/BoringSSL';

describe('config_dump of the listeners', () => {
  it('the mask follows the version', () => {
    assert.equal(
      listenerConfigMask(V119, 'dynamic'),
      'name,active_state.listener.name,active_state.listener.address,active_state.listener.connection_balance_config,active_state.listener.reuse_port',
    );
    assert.match(listenerConfigMask(V130, 'dynamic') ?? '', /active_state\.listener\.enable_reuse_port$/);
    assert.doesNotMatch(listenerConfigMask(V130, 'dynamic') ?? '', /\.reuse_port/);
    assert.equal(
      listenerConfigMask(V130, 'static'),
      'listener.name,listener.address,listener.connection_balance_config,listener.enable_reuse_port',
    );
    assert.equal(
      listenerConfigMask('x/1.11.0/Clean', 'dynamic'),
      undefined,
      'no connection_balance_config before 1.12',
    );
    assert.equal(listenerConfigMask(undefined, 'dynamic'), undefined, 'an unknown version is not asked');
  });

  it('balancer and reuse_port, with the defaults of each version', () => {
    const dump = (listener: Record<string, unknown>) =>
      JSON.stringify({ configs: [{ name: 'l', active_state: { listener: { name: 'l', ...listener } } }] });
    assert.deepEqual(parseListenerConfigs(dump({ connection_balance_config: { exact_balance: {} } }), V119), [
      { name: 'l', balancer: 'exact_balance', reusePort: false, reusePortFrom: 'default' },
    ]);
    assert.deepEqual(parseListenerConfigs(dump({}), V130), [
      { name: 'l', reusePort: true, reusePortFrom: 'default' },
    ]);
    assert.deepEqual(parseListenerConfigs(dump({ enable_reuse_port: false }), V130), [
      { name: 'l', reusePort: false, reusePortFrom: 'field' },
    ]);
    assert.deepEqual(
      parseListenerConfigs(
        dump({ connection_balance_config: { extend_balance: { name: 'dlb' } } }),
        undefined,
      ),
      [{ name: 'l', balancer: 'extend_balance' }],
    );
    assert.throws(() => parseListenerConfigs('{"nope":1}', V130), /no configs array/);
  });

  it('an admin read from a log is checked field by field', () => {
    const good = {
      type: 'admin',
      node: 'local',
      pid: 7,
      report: {
        summary: { address: '127.0.0.1:15000', version: V119 },
        listeners: [
          {
            name: 'l',
            address: '0.0.0.0',
            port: 80,
            workers: [{ worker: 0, total: 3, active: 1 }],
            config: { name: 'l', balancer: 'exact_balance' },
          },
        ],
      },
    };
    assert.equal(validateTraceEvent(good), undefined);
    const bad = (change: (e: typeof good) => unknown) => {
      const copy = structuredClone(good);
      change(copy);
      return validateTraceEvent(copy);
    };
    assert.equal(
      bad((e) => ((e.report.listeners[0].workers[0] as { total: unknown }).total = '3')),
      'admin: bad record',
    );
    assert.equal(
      bad((e) => Object.assign(e.report.summary, { port: 15000 })),
      undefined,
      'the admin port',
    );
    for (const port of [-1, 70000, 1.5, '15000'])
      assert.equal(
        bad((e) => Object.assign(e.report.summary, { port })),
        'admin: bad record',
        `port ${port}`,
      );
    assert.equal(
      bad((e) => ((e.report.listeners[0].config as { balancer: unknown }).balancer = 'rm -rf')),
      'admin: bad record',
    );
    assert.equal(
      bad((e) => (e.report.listeners[0].name = 'x'.repeat(5000))),
      'admin: bad record',
      'names are bounded',
    );
    assert.equal(
      bad((e) => ((e as { pid: unknown }).pid = 1.5)),
      'admin: bad record',
    );
  });

  it('a hostile admin port: names of 100 kB and thousands of workers arrive cut to their bounds', async (t) => {
    const huge = `l${'\u202e'.repeat(10)}${'x'.repeat(100_000)}`;
    const bodies: Record<string, unknown> = {
      '/server_info': { version: `x/1.30.2/${'v'.repeat(5000)}` },
      '/listeners': {
        listener_statuses: [
          { name: huge, local_address: { socket_address: { address: '0.0.0.0', port_value: 80 } } },
        ],
      },
      '/stats': {
        stats: Array.from({ length: 3000 }, (_, i) => ({
          name: `listener.0.0.0.0_80.worker_${i}.downstream_cx_total`,
          value: i,
        })),
      },
      '/config_dump': { configs: [{ name: huge, active_state: { listener: { name: huge } } }] },
    };
    const server = http.createServer((req, res) =>
      res.end(JSON.stringify(bodies[(req.url ?? '').split('?')[0]] ?? {})),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    t.after(() => server.close());
    const report = await readAdmin(directAdminGet('127.0.0.1', (server.address() as AddressInfo).port), {
      label: 'test',
      port: (server.address() as AddressInfo).port,
    });
    assert.equal(report.summary.error, undefined);
    assert.ok(report.summary.version!.length <= 256);
    const [listener] = report.listeners;
    assert.equal(listener.name.length, 256);
    assert.equal(listener.config?.name.length, 256, 'the config is matched by the whole name, then cut');
    assert.equal(listener.workers.length, 1024);
    assert.equal(
      validateTraceEvent({ type: 'admin', node: 'n', pid: 1, report }),
      undefined,
      'a log replays it',
    );
  });
});
