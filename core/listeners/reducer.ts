// The listener state reducer: folds trace events (common/events.ts) into per-process listener
// state and renders it. It knows nothing of SSH or of the UI. The work is in four modules:
// model.ts (the compact mutable store), event-fold.ts (events), snapshot-merge.ts (node snapshots
// and the Envoy admin API) and view-state.ts (the plain ListenerState). `reduceEvents` is the
// pure-function face of it.
import type { SessionTraceEvent, TraceEvent } from '../../common/events';
import type { ListenerState } from '../../common/listeners-protocol';
import type { AdminReport } from './admin';
import { foldEvent } from './event-fold';
import { ListenerModel, MESSAGES_CAP, pushCapped } from './model';
import type { ProcessSnapshot } from './snapshot';
import { mergeAdmin, mergeSnapshot } from './snapshot-merge';
import { listenerState } from './view-state';

export class ListenerReducer {
  private readonly model = new ListenerModel();

  /** Folds one event (bare or as it travels on the bus) into the state. */
  apply(input: TraceEvent | SessionTraceEvent): void {
    foldEvent(this.model, input);
  }

  addSource(name: string): void {
    if (!this.model.sources.includes(name)) pushCapped(this.model.sources, name, MESSAGES_CAP);
  }

  addMessage(text: string): void {
    pushCapped(this.model.messages, text, MESSAGES_CAP);
  }

  countMalformed(n = 1): void {
    this.model.malformed += n;
  }

  /** Seeds the state from a node snapshot and marks where it disagrees with the trace. */
  applySnapshot(snap: ProcessSnapshot): void {
    mergeSnapshot(this.model, snap);
  }

  /** Records what the Envoy admin API says about a process, shown beside the traced accepts. */
  applyAdmin(node: string, pid: number, report: AdminReport): void {
    mergeAdmin(this.model, node, pid, report);
  }

  state(): ListenerState {
    return listenerState(this.model);
  }
}

/** The state a sequence of events leads to: the reducer as a pure function. */
export function reduceEvents(events: Iterable<TraceEvent | SessionTraceEvent>): ListenerState {
  const reducer = new ListenerReducer();
  for (const e of events) reducer.apply(e);
  return reducer.state();
}
