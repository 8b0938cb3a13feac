import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SemanticTokensRequest } from 'vscode-languageserver-protocol';
import { TOKEN_MODIFIERS, TOKEN_TYPES } from '../../server/features/semanticTokens';
import { startServer } from './harness';

test('semantic tokens classify probes, builtins, maps, variables, fields, constants and comments', async () => {
  const h = await startServer({ bpftraceVersion: '0.17' });
  try {
    const text = `#include <linux/in.h>
/* two
   lines */
tracepoint:syscalls:sys_enter_bind /pid != $1/ {
  $sa = (struct sockaddr_in *)args->umyaddr;
  if ($sa->sin_family == AF_INET) { @n[comm] = count(); } // end
}
`;
    const uri = h.open('tok.bt', text);
    const result = await h.client.sendRequest(SemanticTokensRequest.type, { textDocument: { uri } });
    assert.ok(result);
    const { data } = result;
    const lines = text.split('\n');
    const tokens: Array<[string, string, string]> = [];
    let line = 0;
    let char = 0;
    for (let i = 0; i < data.length; i += 5) {
      line += data[i];
      char = data[i] === 0 ? char + data[i + 1] : data[i + 1];
      const mods = TOKEN_MODIFIERS.filter((_, b) => data[i + 4] & (1 << b)).join('+');
      tokens.push([lines[line].slice(char, char + data[i + 2]), TOKEN_TYPES[data[i + 3]], mods]);
    }
    const kind = (s: string) =>
      tokens
        .find((t) => t[0] === s)
        ?.slice(1)
        .join(':');
    assert.equal(kind('#include <linux/in.h>'), 'macro:');
    assert.equal(kind('/* two'), 'comment:');
    assert.equal(kind('   lines */'), 'comment:');
    assert.equal(kind('tracepoint'), 'namespace:');
    assert.equal(kind('sys_enter_bind'), 'event:');
    assert.equal(kind('pid'), 'variable:readonly+defaultLibrary');
    assert.equal(kind('$1'), 'parameter:readonly');
    assert.equal(kind('$sa'), 'variable:');
    assert.equal(kind('sockaddr_in'), 'type:');
    assert.equal(kind('umyaddr'), 'property:');
    assert.equal(kind('AF_INET'), 'enumMember:readonly');
    assert.equal(kind('@n'), 'variable:static');
    assert.equal(kind('count'), 'function:defaultLibrary');
    assert.equal(kind('if'), 'keyword:');
    assert.equal(kind('// end'), 'comment:');
  } finally {
    await h.close();
  }
});
