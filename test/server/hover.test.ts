import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HoverRequest, type MarkupContent } from 'vscode-languageserver-protocol';
import { positionOf, startServer, type ServerHarness } from './harness';

const TEXT = `#include <linux/in.h>
tracepoint:syscalls:sys_enter_bind
{
  $sa = (struct sockaddr_in *)args->umyaddr;
  @binds[comm] = count();
  if ($sa->sin_family == AF_INET) { printf("%d\\n", $sa->sin_port); }
}
`;

async function hoverText(
  h: ServerHarness,
  uri: string,
  needle: string,
  offset = 1,
): Promise<string | undefined> {
  const r = await h.client.sendRequest(HoverRequest.type, {
    textDocument: { uri },
    position: positionOf(TEXT, needle, offset),
  });
  return r ? (r.contents as MarkupContent).value : undefined;
}

test('hover shows tracepoint formats, arg types, builtin docs, inferred types and constants', async () => {
  const h = await startServer({ bpftraceVersion: '0.17' });
  try {
    const uri = h.open('hover.bt', TEXT);
    const probe = await hoverText(h, uri, 'tracepoint:syscalls');
    assert.match(probe ?? '', /struct sockaddr \* umyaddr;/);
    const field = await hoverText(h, uri, 'umyaddr;');
    assert.match(field ?? '', /struct sockaddr \* umyaddr/);
    assert.match(field ?? '', /syscalls:sys_enter_bind/);
    const variable = await hoverText(h, uri, '$sa =');
    assert.match(variable ?? '', /\$sa: struct sockaddr_in \*/);
    const map = await hoverText(h, uri, '@binds');
    assert.match(map ?? '', /@binds\[string\]: count_t/);
    const builtin = await hoverText(h, uri, 'comm]');
    assert.match(builtin ?? '', /comm: string\[16\]/);
    const fn = await hoverText(h, uri, 'printf');
    assert.match(fn ?? '', /printf\(fmt: string/);
    const member = await hoverText(h, uri, 'sin_port');
    assert.match(member ?? '', /__be16 sin_port/);
    const constant = await hoverText(h, uri, 'AF_INET');
    assert.match(constant ?? '', /AF_INET = 2/);
    const args = await hoverText(h, uri, 'args->umyaddr');
    assert.match(args ?? '', /struct _tracepoint_syscalls_sys_enter_bind \{/);
    assert.match(args ?? '', /args` is a pointer: `args->field`/);
    const cast = await hoverText(h, uri, 'struct sockaddr_in');
    assert.match(cast ?? '', /struct sockaddr_in \{\n[^}]*__be16 sin_port;/);
    assert.equal(await hoverText(h, uri, '{', 0), undefined);
  } finally {
    await h.close();
  }
});
