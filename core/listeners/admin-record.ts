// The shape check of an admin read found in a session log: logs are untrusted files, and the
// reducer and the views rely on these fields being what their types say (and being bounded).
import type { AdminRecord } from '../../common/events';
import { isFiniteNumber, isRecord } from '../../common/guards';

const MAX_TEXT = 1024;
const MAX_LISTENERS = 4096;
const MAX_WORKERS = 1024;

function text(v: unknown): boolean {
  return typeof v === 'string' && v.length <= MAX_TEXT;
}

function optional(v: unknown, check: (x: unknown) => boolean): boolean {
  return v === undefined || check(v);
}

function count(v: unknown): boolean {
  return isFiniteNumber(v) && v >= 0;
}

function isWorker(v: unknown): boolean {
  return isRecord(v) && count(v.worker) && count(v.total) && optional(v.active, count);
}

function isConfig(v: unknown): boolean {
  return (
    isRecord(v) &&
    text(v.name) &&
    optional(v.balancer, (b) => b === 'exact_balance' || b === 'extend_balance') &&
    optional(v.reusePort, (b) => typeof b === 'boolean') &&
    optional(v.reusePortFrom, (f) => f === 'field' || f === 'default')
  );
}

function isListener(v: unknown): boolean {
  return (
    isRecord(v) &&
    text(v.name) &&
    text(v.address) &&
    count(v.port) &&
    optional(v.statPrefix, text) &&
    Array.isArray(v.workers) &&
    v.workers.length <= MAX_WORKERS &&
    v.workers.every(isWorker) &&
    optional(v.config, isConfig)
  );
}

export function isAdminRecord(v: unknown): v is AdminRecord {
  if (!isRecord(v) || !isRecord(v.summary) || !Array.isArray(v.listeners)) return false;
  const s = v.summary;
  return (
    text(s.address) &&
    ['version', 'state', 'statsNote', 'configNote', 'error'].every((k) => optional(s[k], text)) &&
    optional(s.concurrency, count) &&
    optional(s.port, (p) => count(p) && Number.isInteger(p) && (p as number) <= 65535) &&
    v.listeners.length <= MAX_LISTENERS &&
    v.listeners.every(isListener)
  );
}
