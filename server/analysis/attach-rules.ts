// Rules on a probe's attach points taken together or on their numbers, from bpftrace's
// semantic_analyser.cpp (v0.17.0 .. v0.24.x: visit(Probe), visit(AttachPoint) for watchpoints):
// an iter probe has a single attach point; a watchpoint watches a non-zero address with a length
// of 1, 2, 4 or 8 bytes and a mode of r, w and x that x86_64 supports; an asyncwatchpoint watches
// a function's argument, never a bare address. From 0.25 the passes moved: not checked there.
import type { AttachPoint, Probe } from '../syntax/ast';
import type { Checker } from './checker';
import type { ProbeRow } from './dialects';

const ATTACH_RULES_UNTIL = 24;
const WATCH_LENGTHS = ['1', '2', '4', '8'];
/** Modes x86_64 debug registers cannot watch (Intel SDM vol. 3, 17.2.4), letters sorted. */
const X86_64_INVALID_MODES = ['r', 'rx', 'wx', 'rwx'];

export function attachPointRules(cx: Checker, probe: Probe, rows: Array<ProbeRow | undefined>): void {
  if (cx.dialect.minor > ATTACH_RULES_UNTIL) return;
  const iter = probe.attachPoints.findIndex((_, i) => rows[i]?.name === 'iter');
  if (iter >= 0 && probe.attachPoints.length > 1) {
    cx.report(
      probe.attachPoints[iter],
      'error',
      'iter-attach-points',
      'Only single iter attach point is allowed: give each iter probe its own block',
    );
    return;
  }
  probe.attachPoints.forEach((ap, i) => {
    const name = rows[i]?.name;
    if (name === 'watchpoint' || name === 'asyncwatchpoint') watchpoint(cx, ap, name);
  });
}

function watchpoint(cx: Checker, ap: AttachPoint, provider: string): void {
  const [target, length, mode] = ap.parts.map((p) => p.name);
  const say = (message: string) => cx.report(ap, 'error', 'watchpoint', message);
  if (target === undefined) return;
  if (target.includes('+')) {
    // func+argN: which process is watched comes from -p or -c when bpftrace starts.
    const [func, arg, ...more] = target.split('+').filter(Boolean);
    if (!func || !arg || more.length) say('Invalid function/address argument: write func+argN');
    else if (!/^arg\d+$/.test(arg)) say(`Invalid function argument '${arg}': write argN`);
    return;
  }
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(target)) {
    say(`${provider} needs an address or func+argN, not '${target}'`);
    return;
  }
  if (provider === 'asyncwatchpoint')
    say('asyncwatchpoint requires a function name (func+argN), not an address');
  else if (Number(target) === 0) say('watchpoint must be attached to a non-zero address');
  if (length !== undefined && !WATCH_LENGTHS.includes(length))
    say('watchpoint length must be one of (1,2,4,8)');
  if (mode === undefined) return;
  const letters = [...mode].sort();
  if (!letters.length || letters.some((c) => c !== 'r' && c !== 'w' && c !== 'x'))
    say('watchpoint mode must be combination of (r,w,x)');
  else if (letters.some((c, i) => i > 0 && letters[i - 1] === c))
    say('watchpoint modes may not be duplicated');
  else if (X86_64_INVALID_MODES.includes(letters.join(''))) say(`invalid watchpoint mode: ${mode}`);
}
