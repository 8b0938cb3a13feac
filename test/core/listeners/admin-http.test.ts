// The HTTP reader behind the curl-less admin GET (bash /dev/tcp hands back the raw response).
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { describe, it } from 'node:test';
import { commandAdminGet, directAdminGet, httpResponseBody } from '../../../core/listeners/admin';
import { localRunner } from '../../../core/nodes/commands';
import { fuzz } from '../../helpers/fuzz';

/** A loopback "admin" port that answers every connection with `reply` and closes. */
async function hostileAdmin(reply: string): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer((socket) => {
    socket.once('data', () => socket.end(reply));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const isRoot = process.getuid?.() === 0;

describe('admin GET without curl: the raw HTTP response', () => {
  it('reads a body with content-length as is', () => {
    const raw = 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"state":1}';
    assert.equal(httpResponseBody(raw, '/server_info'), '{"state":1}');
  });

  it('joins a chunked body by bytes, multi-byte characters and chunk extensions included', () => {
    const json = '{"name":"listener-ä→✓"}';
    const bytes = Buffer.from(json, 'utf8');
    const first = bytes.subarray(0, 14);
    const second = bytes.subarray(14);
    // Chunk sizes count bytes: the second chunk starts before multi-byte characters.
    const body = Buffer.concat([
      Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'),
      Buffer.from(`${first.length.toString(16)};ext=1\r\n`),
      first,
      Buffer.from(`\r\n${second.length.toString(16)}\r\n`),
      second,
      Buffer.from('\r\n0\r\n\r\n'),
    ]);
    assert.equal(httpResponseBody(body.toString('utf8'), '/listeners'), json);
  });

  it('an error status, a cut response or no HTTP at all is an error that says so', () => {
    assert.throws(() => httpResponseBody('HTTP/1.1 404 Not Found\r\n\r\nnope', '/x'), /admin \/x: HTTP 404/);
    assert.throws(
      () => httpResponseBody('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab', '/x'),
      /cut short|chunk/,
    );
    assert.throws(() => httpResponseBody('', '/x'), /no HTTP response/);
    assert.throws(() => httpResponseBody('SSH-2.0-OpenSSH\r\n\r\n', '/x'), /not an HTTP status line/);
  });
});

describe('admin GET without curl: hostile replies', () => {
  it(
    'a negative chunk size from the admin port is an error, through the real bash client',
    {
      skip: !isRoot && process.env.CI !== 'true' ? 'nsenter needs root' : false,
      timeout: 30_000,
    },
    async (t) => {
      // `-6` once made the reader jump back and loop forever with growing memory.
      const admin = await hostileAdmin(
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n-6\r\nxx\r\n',
      );
      t.after(() => admin.close());
      const get = commandAdminGet(localRunner, process.pid, '127.0.0.1', admin.port, ['bash']);
      await assert.rejects(get('/server_info'), /bad chunk size/);
    },
  );

  it('refuses sizes that are not plain hex, and chunks that do not fit or lack their CRLF', () => {
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    for (const size of ['-6', '+3', '0x3', ' 3', '3 ', '', 'ffffffffff', 'g1'])
      assert.throws(
        () => httpResponseBody(`${head}${size}\r\nabc\r\n0\r\n\r\n`, '/x'),
        /bad chunk size/,
        size,
      );
    assert.throws(() => httpResponseBody(`${head}fffffff\r\nabc\r\n0\r\n\r\n`, '/x'), /cut short/);
    assert.throws(() => httpResponseBody(`${head}2\r\nabc\r\n0\r\n\r\n`, '/x'), /CRLF/);
  });

  it('fuzz: 10,000 mutated responses end in a body or an error, in bounded time', () => {
    const seeds = [
      'HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\n{"state":1}',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
      'HTTP/1.0 404 Not Found\r\n\r\n',
    ];
    fuzz(seeds, { seed: 13, count: 10_000, budgetMs: 20_000 }, (input) => {
      try {
        const body = httpResponseBody(input.toString('latin1'), '/x');
        assert.ok(body.length <= input.length);
      } catch (error) {
        assert.match(String(error), /^Error: admin \/x: /);
      }
    });
  });

  it('a port that trickles its answer is cut at the total deadline, not kept alive by each byte', async (t) => {
    const server = net.createServer((socket) => {
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n');
        const drip = setInterval(() => socket.write('x'), 100);
        socket.on('close', () => clearInterval(drip));
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      server.close();
      server.unref();
    });
    const port = (server.address() as net.AddressInfo).port;
    await assert.rejects(
      directAdminGet('127.0.0.1', port, 1000)('/server_info'),
      /no complete answer in 1000 ms/,
    );
  });
});
