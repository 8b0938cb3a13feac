// The bpftrace `-f json` reader's parser: the trace stream parser of core/trace, so saved output
// is read exactly as a live trace is.
import { TraceStreamParser } from '../trace/stream-parser';
import type { BpftraceOutputParser } from './readers';

export function bpftraceParserFactory(): BpftraceOutputParser {
  return new TraceStreamParser();
}
