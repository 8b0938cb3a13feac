// The bpftrace `-f json` reader's parser: the trace stream parser of core/trace, so saved output
// is read exactly as a live trace is.
import type { BpftraceOutputParser } from './readers';

export function bpftraceParserFactory(): BpftraceOutputParser {
  throw new Error(
    'reading bpftrace -f json output needs the trace stream parser (core/trace/stream-parser.ts)',
  );
}
