// Parser of `bpftrace -lv 'tracepoint:*'` output (the same in 0.17 and 0.26): a header line
// `tracepoint:category:event`, then one indented `TYPE NAME` line per field.
import type { TracepointField } from './types';

export interface ListedField extends TracepointField {
  /** The field line as listed, e.g. `char prev_comm[16]`; the bundled data stores this. */
  line: string;
}

export function parseFieldLine(raw: string): ListedField | undefined {
  const line = raw.trim().replace(/\s+/g, ' ');
  const m = /^(.*?)\s*(\w+)((?:\[\w*\])*)$/.exec(line);
  if (!m || !m[1]) return undefined;
  const base = m[1].trim();
  const dims = m[3];
  const field: ListedField = { name: m[2], type: `${base}${dims}`, line };
  if (dims || base.endsWith('[]')) field.isArray = true;
  return field;
}

/** Map of `category:event` to its fields, in listing order. Tolerates blank and foreign lines. */
export function parseListing(listing: string): Map<string, ListedField[]> {
  const result = new Map<string, ListedField[]>();
  let current: ListedField[] | undefined;
  for (const raw of listing.split('\n')) {
    if (!raw.trim()) continue;
    if (!/^\s/.test(raw)) {
      const header = /^(?:tracepoint|t):([^:\s]+):([^:\s]+)\s*$/.exec(raw.trim());
      current = header ? [] : undefined;
      if (header) result.set(`${header[1]}:${header[2]}`, current!);
      continue;
    }
    if (!current) continue;
    const field = parseFieldLine(raw);
    if (field) current.push(field);
  }
  return result;
}
