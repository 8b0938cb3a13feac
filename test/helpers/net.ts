import * as net from 'node:net';
import type { TestContext } from 'node:test';

/**
 * A TCP port on a loopback address that was free a moment ago (the kernel's choice, released
 * right away). Targets are started on such fixed ports because a bind to port 0 is traced as 0.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** n distinct free ports, held together while they are chosen so that none repeats. */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.once('error', reject);
          server.listen(0, host, () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Connects to host:port and ends the connection once it is established (the target accepts it). */
export function connectAndClose(port: number, host = '127.0.0.1'): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const socket = net.connect(port, host, () => {
      socket.end();
      resolve();
    });
    socket.once('error', reject);
  });
}

/**
 * One short HTTP/1.1 request with `Connection: close` to host:port; resolves with the response once
 * the server has closed (at most 64 KiB kept and 10 s waited: the answer is the server's). The
 * request is not followed by a half-close: a server may take an early FIN for an abort, as Envoy
 * without half-close does.
 */
export function httpGetAndClose(port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let response = '';
    const socket = net.connect(port, host, () =>
      socket.write(`GET / HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: close\r\n\r\n`),
    );
    socket.setEncoding('latin1');
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer from ${host}:${port} within 10 s`)));
    socket.on('data', (chunk: string) => (response = (response + chunk).slice(0, 65536)));
    socket.once('close', () => resolve(response));
    socket.once('error', reject);
  });
}

/** `count` connections made by `connect` (default: connect and close), `parallel` at a time. */
export async function burst(
  port: number,
  count: number,
  parallel = 50,
  connect: (port: number) => Promise<unknown> = connectAndClose,
): Promise<void> {
  for (let done = 0; done < count; done += parallel)
    await Promise.all(Array.from({ length: Math.min(parallel, count - done) }, () => connect(port)));
}

/** A connection that sends nothing (it stays open until the test ends), once it is established. */
export function openIdle(t: TestContext, port: number, host = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host, () => resolve(socket));
    socket.once('error', reject);
    t.after(() => socket.destroy());
  });
}
