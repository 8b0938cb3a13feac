// Accepts per worker over the whole trace, for the chart beside the figures: equal buckets of
// trace time from one origin per node (so that workers of one listener line up, also across
// forked processes), one second wide until the trace outgrows SERIES_BUCKETS, then doubled by
// adding neighbours. Memory per worker stays at SERIES_BUCKETS numbers however long the trace.
import type { AcceptSeriesView } from '../../common/listeners-protocol';

export const SERIES_BUCKETS = 60;

export interface AcceptSeries {
  /** Seconds per bucket: a power of two. */
  widthSec: number;
  /** Accepts per bucket; bucket i starts at origin + i * widthSec. */
  counts: number[];
}

export function newAcceptSeries(): AcceptSeries {
  return { widthSec: 1, counts: [] };
}

function halve(counts: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < counts.length; i += 2) out.push(counts[i] + (counts[i + 1] ?? 0));
  return out;
}

/** Adds `n` accepts at second `sec` of a node whose series start at `originSec`. */
export function addToSeries(series: AcceptSeries, originSec: number, sec: number, n: number): void {
  // Per-CPU buffers deliver a little out of order: an accept just before the origin is its first.
  const offset = Math.max(0, sec - originSec);
  let index = Math.floor(offset / series.widthSec);
  while (index >= SERIES_BUCKETS) {
    series.counts = halve(series.counts);
    series.widthSec *= 2;
    index = Math.floor(offset / series.widthSec);
  }
  while (series.counts.length <= index) series.counts.push(0);
  series.counts[index] += n;
}

/** Adds the accepts of `from` to `into` (both from one origin), at the wider of their widths. */
export function mergeSeries(into: AcceptSeries, from: AcceptSeries): void {
  const widthSec = Math.max(into.widthSec, from.widthSec);
  const counts = widen(into.counts, into.widthSec, widthSec);
  widen(from.counts, from.widthSec, widthSec).forEach((n, i) => (counts[i] = (counts[i] ?? 0) + n));
  for (let i = 0; i < counts.length; i++) counts[i] ??= 0;
  into.counts = counts;
  into.widthSec = widthSec;
}

/** `counts` in buckets of `widthSec` re-bucketed to `targetSec` (a multiple of it, both from one origin). */
function widen(counts: number[], widthSec: number, targetSec: number): number[] {
  let out = counts;
  for (let w = widthSec; w < targetSec; w *= 2) out = halve(out);
  return out;
}

/**
 * The chart's series for the workers of one listener (each with the series of every socket it
 * accepted on, merged): one common bucket width, leading buckets without any accept left out.
 */
export function seriesView(
  originSec: number | undefined,
  workers: { pid: number; tid: number; name: string; parts: AcceptSeries[] }[],
): AcceptSeriesView | undefined {
  if (originSec === undefined || workers.length === 0) return undefined;
  const widthSec = Math.max(1, ...workers.flatMap((w) => w.parts.map((p) => p.widthSec)));
  const rows = workers.map((w) => {
    const counts: number[] = [];
    for (const part of w.parts)
      widen(part.counts, part.widthSec, widthSec).forEach((n, i) => (counts[i] = (counts[i] ?? 0) + n));
    for (let i = 0; i < counts.length; i++) counts[i] ??= 0;
    return { pid: w.pid, tid: w.tid, name: w.name, counts };
  });
  const length = Math.max(0, ...rows.map((r) => r.counts.length));
  let first = length;
  for (const r of rows) {
    const i = r.counts.findIndex((n) => n > 0);
    if (i >= 0) first = Math.min(first, i);
  }
  if (first >= length) return undefined;
  return {
    startNs: (originSec + first * widthSec) * 1e9,
    bucketSec: widthSec,
    workers: rows.map((r) => ({
      ...r,
      counts: Array.from({ length: length - first }, (_, i) => r.counts[first + i] ?? 0),
    })),
  };
}
