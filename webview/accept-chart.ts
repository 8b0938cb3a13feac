// The accepts-per-worker-over-time chart: one step line per worker in an inline SVG made with DOM
// calls (names reach it only as attribute values and textContent), coloured by CSS classes that
// map onto VS Code's chart colours, so the lines and the worker rows' bars share one palette. The
// SVG stretches to the sidebar's width (viewBox without aspect ratio, strokes that do not scale);
// its words (span, bucket width, highest bucket) are HTML below it, which wraps.
import type { AcceptSeriesView } from '../common/listeners-protocol';
import { el } from './dom';

const SVG = 'http://www.w3.org/2000/svg';
/** Plot size in viewBox units; the SVG is drawn at the width it is given, CHART_HEIGHT tall. */
export const CHART_WIDTH = 200;
export const CHART_HEIGHT = 48;
/** Colour classes in listeners.css (series-0 … series-5), taken in turn. */
const PALETTE = 6;
/** Workers named in the chart's spoken summary; the rest are counted. */
const NAMED = 8;
/** Beyond these the series is not one the extension makes (60 buckets, a worker per thread). */
const MAX_BUCKETS = 1024;
const MAX_WORKERS = 1024;

/** The colour class of the worker at `index` (the row order of "Accepts per worker"). */
export function seriesClass(index: number): string {
  return `series-${index % PALETTE}`;
}

/** A duration in the largest unit that keeps it readable: 500 ms, 45 s, 2 min, 1.5 h. */
export function duration(sec: number): string {
  const round = (n: number) => String(Math.round(n * 10) / 10);
  if (sec < 1) return `${Math.round(sec * 1000)} ms`;
  if (sec < 120) return `${round(sec)} s`;
  if (sec < 2 * 3600) return `${round(sec / 60)} min`;
  return `${round(sec / 3600)} h`;
}

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string>,
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

const peak = (counts: number[]): number => counts.reduce((m, n) => Math.max(m, n), 0);

/** The message's validator does not look inside the series: a malformed one draws nothing. */
function drawable(series: AcceptSeriesView): boolean {
  const { workers, bucketSec } = series;
  return (
    Number.isFinite(bucketSec) &&
    bucketSec > 0 &&
    Array.isArray(workers) &&
    workers.length <= MAX_WORKERS &&
    workers.every(
      (w) =>
        typeof w === 'object' &&
        w !== null &&
        typeof w.name === 'string' &&
        Number.isInteger(w.pid) &&
        Number.isInteger(w.tid) &&
        Array.isArray(w.counts) &&
        w.counts.length <= MAX_BUCKETS &&
        w.counts.every((n) => Number.isFinite(n) && n >= 0),
    )
  );
}

const coord = (n: number): string => String(Math.round(n * 100) / 100);

/** A step line through `counts`: each bucket a flat segment across its width. */
function stepPoints(counts: number[], buckets: number, max: number): string {
  const points: string[] = [];
  for (let i = 0; i < buckets; i++) {
    const y = coord(CHART_HEIGHT - (max > 0 ? ((counts[i] ?? 0) / max) * CHART_HEIGHT : 0));
    points.push(
      `${coord((i * CHART_WIDTH) / buckets)},${y}`,
      `${coord(((i + 1) * CHART_WIDTH) / buckets)},${y}`,
    );
  }
  return points.join(' ');
}

export interface AcceptChart {
  element: HTMLElement;
  /**
   * What the chart shows, in words: its aria-label and <title>. It does not begin as the
   * "Accepts per worker" item's label does, so a look-up by that label finds the item alone.
   */
  summary: string;
}

/**
 * The chart of `series`, each worker in the colour of its row in `rows` (the listener's worker
 * rows; one without a row takes a colour after theirs); undefined with fewer than two buckets,
 * where a line says nothing the rows do not.
 */
export function acceptChart(
  series: AcceptSeriesView,
  rows: readonly { pid: number; tid: number }[],
): AcceptChart | undefined {
  if (!drawable(series)) return undefined;
  const workers = series.workers;
  const buckets = workers.reduce((n, w) => Math.max(n, w.counts.length), 0);
  if (buckets < 2) return undefined;
  const max = workers.reduce((m, w) => Math.max(m, peak(w.counts)), 0);
  const span = `${duration(buckets * series.bucketSec)} from the first accept, ${duration(series.bucketSec)} buckets`;
  const peaks = workers.map((w) => `${w.name} at most ${peak(w.counts)}`);
  const more = peaks.length > NAMED ? `, and ${peaks.length - NAMED} more workers` : '';
  const summary =
    `Chart of the accepts per worker over time, one line per worker: ${span}; the highest bucket holds ${max}. ` +
    `${peaks.slice(0, NAMED).join('; ')}${more}.`;

  const element = el('div', 'chart');
  const chart = svg('svg', {
    viewBox: `0 -1 ${CHART_WIDTH} ${CHART_HEIGHT + 2}`,
    preserveAspectRatio: 'none',
    role: 'img',
    'aria-label': summary,
  });
  const title = svg('title', {});
  title.textContent = summary;
  const axis = { x1: '0', y1: String(CHART_HEIGHT), x2: String(CHART_WIDTH), y2: String(CHART_HEIGHT) };
  chart.append(title, svg('line', { class: 'axis', ...axis }));
  let extra = rows.length;
  for (const w of workers) {
    const row = rows.findIndex((r) => r.pid === w.pid && r.tid === w.tid);
    const line = svg('polyline', {
      class: `series ${seriesClass(row >= 0 ? row : extra++)}`,
      points: stepPoints(w.counts, buckets, max),
      'data-worker': `${w.pid}:${w.tid}`,
    });
    const name = svg('title', {});
    name.textContent = w.name;
    line.append(name);
    chart.append(line);
  }
  const caption = el('div', 'chart-caption');
  caption.append(el('span', undefined, span), el('span', undefined, `max ${max} per bucket`));
  element.append(chart, caption);
  return { element, summary };
}
