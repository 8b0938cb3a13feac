// A deliberately small line parser for runner tests only (the product parser is
// core/trace/stream-parser.ts): JSON lines in, a few event kinds out. It exists so these tests
// exercise the runner itself, not the parser.
import type { TraceEvent } from '../../../common/events';
import type { TraceOutputParser } from '../../../core/trace/runner';

export class LineParser implements TraceOutputParser {
  private out = '';
  private err = '';

  pushStdout(chunk: string): TraceEvent[] {
    this.out += chunk;
    const lines = this.out.split('\n');
    this.out = lines.pop() ?? '';
    return lines.filter((l) => l.trim()).map((l) => this.stdoutLine(l));
  }

  pushStderr(chunk: string): TraceEvent[] {
    this.err += chunk;
    const lines = this.err.split('\n');
    this.err = lines.pop() ?? '';
    return lines.filter((l) => l.trim()).map((l) => ({ type: 'output', text: `stderr: ${l}` }) as TraceEvent);
  }

  end(): TraceEvent[] {
    return [...this.pushStdout('\n'), ...this.pushStderr('\n')];
  }

  private stdoutLine(line: string): TraceEvent {
    try {
      const v = JSON.parse(line) as { type: string; data: unknown };
      if (v.type === 'attached_probes')
        return { type: 'attached', probes: (v.data as { probes: number }).probes };
      if (v.type === 'printf') return { type: 'output', text: String(v.data) };
      if (v.type === 'map') {
        const [name, value] = Object.entries(v.data as object)[0] ?? ['', null];
        return { type: 'map', name, value };
      }
      return { type: 'output', text: line };
    } catch {
      return { type: 'malformed', line, reason: 'not JSON' };
    }
  }
}
