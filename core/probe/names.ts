// How a symbol is named in a uprobe attach point, for the script writer and the language server.

/**
 * A uprobe function name as bpftrace's lexer takes it: bare when it is a plain identifier, else
 * in double quotes (clang's `$_N`, GCC's `.cold`/`.isra.0` clones).
 */
export function uprobeFunctionName(symbol: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(symbol) ? symbol : `"${symbol}"`;
}
