// Listener state benchmark: reducer throughput, renders per second under a 10k events/s live
// stream (the view's throttle, state() and the message serialisation, as the extension does
// them), and heap after 1M events (must stay bounded). Prints one figure per line.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { SyscallEvent } from '../common/events';
import { ListenerReducer } from '../core/listeners/reducer';
import { createThrottle } from '../core/listeners/throttle';
import { launchChromium } from '../test/e2e/rig';
import { listenersHtml } from '../webview/html';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const PID = 4242;
const WORKERS = 4;

/** An Envoy-like life: 3 listeners bound on main, dup'd per worker; then accepts, options, drains. */
function* synthetic(count: number): Generator<SyscallEvent> {
  let t = 1e9;
  const at = (tid: number, comm: string) => ({ timeNs: (t += 100_000), pid: PID, tid, comm });
  const stack = ['listen+11', 'Envoy::Network::IoSocketHandleImpl::listen(int)+69', 'main+44'];
  let n = 0;
  let nextFd = 100;
  const listenFds: number[][] = [];
  for (const [i, port] of [15001, 15006, 15090].entries()) {
    const fd = 20 + i;
    yield { type: 'socket', ...at(PID, 'envoy'), fd, family: 'inet', socketType: 1 };
    yield { type: 'setsockopt', ...at(PID, 'envoy'), fd, level: 1, optname: 2, value: 1, optlen: 4 };
    yield {
      type: 'bind',
      ...at(PID, 'envoy'),
      fd,
      address: { family: 'inet', address: '0.0.0.0', port },
      stack,
    };
    const fds: number[] = [];
    for (let w = 0; w < WORKERS; w++) {
      const newFd = 40 + i * WORKERS + w;
      yield { type: 'dup', ...at(PID + 1 + w, `wrk:worker_${w}`), oldFd: fd, newFd, via: 'dup', stack };
      yield { type: 'listen', ...at(PID + 1 + w, `wrk:worker_${w}`), fd: newFd, backlog: 4096, stack };
      fds.push(newFd);
    }
    listenFds.push(fds);
    n += 3 + 2 * WORKERS;
  }
  while (n < count) {
    n++;
    const w = n % WORKERS;
    const l = n % 3;
    const r = n % 1000;
    if (r === 0) {
      // Drain and re-listen the listener (fd numbers are reused).
      const old = listenFds[l][w];
      yield { type: 'close', ...at(PID + 1 + w, `wrk:worker_${w}`), fd: old };
      yield {
        type: 'dup',
        ...at(PID + 1 + w, `wrk:worker_${w}`),
        oldFd: 20 + l,
        newFd: old,
        via: 'dup',
        stack,
      };
      yield { type: 'listen', ...at(PID + 1 + w, `wrk:worker_${w}`), fd: old, backlog: 4096, stack };
      n += 2;
    } else if (r % 10 === 1) {
      yield {
        type: 'setsockopt',
        ...at(PID + 1 + w, `wrk:worker_${w}`),
        fd: nextFd,
        level: 6,
        optname: 1,
        value: 1,
        optlen: 4,
      };
    } else if (r % 10 === 2) {
      yield { type: 'close', ...at(PID + 1 + w, `wrk:worker_${w}`), fd: nextFd };
    } else {
      nextFd = 100 + (n % 5000);
      yield { type: 'accept', ...at(PID + 1 + w, `wrk:worker_${w}`), listenFd: listenFds[l][w], fd: nextFd };
    }
  }
}

function heapMiB(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

async function main(): Promise<void> {
  const total = 1_000_000;
  const events = [...synthetic(total)];

  // 1. Reducer throughput (best of 3).
  let best = Infinity;
  for (let run = 0; run < 3; run++) {
    const reducer = new ListenerReducer();
    const start = process.hrtime.bigint();
    for (const e of events) reducer.apply(e);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
  }
  console.log(
    `reducer: ${events.length} events in ${best.toFixed(3)} s = ${Math.round(events.length / best)} events/s`,
  );

  // 2. Heap after 100k, 500k and 1M events: bounded means flat. What the reducer holds is the heap
  // with it alive minus the heap once it is released (the 1M input events stay alive throughout).
  let reducer: ListenerReducer | undefined = new ListenerReducer();
  const before = heapMiB();
  const marks = new Map<number, number>();
  events.forEach((e, i) => {
    reducer!.apply(e);
    if (i + 1 === 100_000 || i + 1 === 500_000 || i + 1 === events.length) marks.set(i + 1, heapMiB());
  });
  const state = reducer.state();
  const json = JSON.stringify(state);
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < 100; i++) JSON.stringify(reducer.state());
  const renderMsAt1M = Number(process.hrtime.bigint() - t0) / 1e6 / 100;
  reducer = undefined;
  const released = heapMiB();
  for (const [n, mib] of marks)
    console.log(
      `heap after ${n} events: ${mib.toFixed(2)} MiB (${(mib - before).toFixed(2)} MiB more than an empty reducer; ${(mib - released).toFixed(2)} MiB more than none)`,
    );
  console.log(
    `state after 1M events: ${state.processes[0].listeners.length} listeners, ${state.processes[0].listeners.reduce((k, l) => k + l.timeline.length, 0)} timeline steps, ${(json.length / 1024).toFixed(1)} KiB as JSON`,
  );
  console.log(`one render (state() + serialisation) after 1M events: ${renderMsAt1M.toFixed(2)} ms`);

  // 3. Renders per second under a live 10k events/s stream for 5 s (1 ms batches of 10 events).
  const live = new ListenerReducer();
  let renders = 0;
  let renderMs = 0;
  const throttle = createThrottle(() => {
    const s = process.hrtime.bigint();
    JSON.stringify({ type: 'state', state: live.state() });
    renderMs += Number(process.hrtime.bigint() - s) / 1e6;
    renders++;
  }, 100);
  const seconds = 5;
  const rate = 10_000;
  let fed = 0;
  const stream = synthetic(Infinity as unknown as number);
  t0 = process.hrtime.bigint();
  const startWall = Date.now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsed = (Date.now() - startWall) / 1000;
      if (elapsed >= seconds) return resolve();
      const due = Math.floor(elapsed * rate);
      while (fed < due) {
        live.apply(stream.next().value as SyscallEvent);
        throttle.request();
        fed++;
      }
      setTimeout(tick, 1);
    };
    tick();
  });
  // No final flush: count only what the throttle let through during the stream.
  throttle.dispose();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(
    `live stream: ${fed} events in ${wall.toFixed(2)} s (${Math.round(fed / wall)} events/s), ${renders} renders = ${(renders / wall).toFixed(1)} renders/s, ${(renderMs / renders).toFixed(2)} ms per render`,
  );
}

/** The page itself in Chromium: how long the built webview takes to render one state message. */
async function pageRenders(states: unknown[]): Promise<void> {
  const dist = path.resolve(__dirname, '../dist/webview');
  if (!existsSync('/usr/bin/chromium') || !existsSync(path.join(dist, 'main.js'))) {
    console.log('webview: skipped (needs /usr/bin/chromium and npm run build)');
    return;
  }
  let origin = '';
  const server = http.createServer((req, res) => {
    const name = new URL(req.url ?? '/', 'http://x').pathname;
    if (name === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        listenersHtml({ cspSource: origin, baseUri: origin, nonce: randomBytes(18).toString('base64') }),
      );
      return;
    }
    const file = path.join(dist, path.basename(name));
    if (!existsSync(file)) return void res.writeHead(404).end();
    const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : 'font/ttf';
    res.writeHead(200, { 'content-type': type }).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 400, height: 900 } });
    await page.addInitScript({
      content: 'window.acquireVsCodeApi = () => ({ postMessage() {}, getState() {}, setState() {} });',
    });
    await page.goto(origin);
    await page.waitForSelector('.empty');
    // Dispatched synchronously, then a forced layout: the whole cost of one state message.
    const ms = (await page.evaluate(`(async (states) => {
      const times = [];
      for (const state of states) {
        const t = performance.now();
        window.dispatchEvent(new MessageEvent('message', { data: { type: 'state', state } }));
        document.body.getBoundingClientRect();
        times.push(performance.now() - t);
      }
      return times;
    })(${JSON.stringify(states)})`)) as number[];
    ms.sort((a, b) => a - b);
    const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
    console.log(
      `webview: ${ms.length} state messages rendered in Chromium, mean ${mean.toFixed(1)} ms, p95 ${ms[Math.floor(ms.length * 0.95)].toFixed(1)} ms = at most ${Math.floor(1000 / mean)} renders/s (the throttle asks for 10)`,
    );
  } finally {
    await browser.close();
    server.close();
  }
}

void main().then(() => {
  const reducer = new ListenerReducer();
  const states: unknown[] = [];
  let i = 0;
  for (const e of synthetic(200_000)) {
    reducer.apply(e);
    if (++i % 4000 === 0) states.push(reducer.state());
  }
  return pageRenders(states);
});
