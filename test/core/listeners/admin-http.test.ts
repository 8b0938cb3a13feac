// The HTTP reader behind the curl-less admin GET (bash /dev/tcp hands back the raw response).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { httpResponseBody } from '../../../core/listeners/admin';

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
