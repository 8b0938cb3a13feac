// How the Stacks view names a frame: the last scopes and the name (a lambda by the function it is
// in), with the offset; the frame as printed when its symbol could not be read.
import type { Resolution } from '../../core/stacks/resolution';

export function frameLabel(r: Resolution): string {
  const p = r.parsed;
  if (!p) return r.frame;
  const offset = /\+(0x[0-9a-f]+|\d+)/i.exec(r.frame)?.[0] ?? '';
  if (p.kind === 'lambda' && p.lambda) {
    return `lambda in ${p.lambda.enclosing.scope.slice(-1).concat(p.lambda.enclosing.name).join('::')}${offset}`;
  }
  return `${p.scope.slice(-2).concat(p.name).join('::')}${p.params ? '()' : ''}${offset}`;
}
