// Where the server's machine facts come from: this machine's, read here once when documents are
// checked in the local bpftrace's dialect; a node's, pushed by the side holding its connection
// (fieldtrace/setNodeFacts). Binaries a document names are read once each: here for this
// machine, else asked of the client (fieldtrace/binaryFacts); their symbols come from the one
// symbol cache by build-id that the extension fills on the same disk.
import type { Connection } from 'vscode-languageserver';
import { BinaryFactsRequest } from '../common/protocol';
import { GLOB_TABLES_MAX, readBinaryFacts, readNodeFacts } from '../core/nodes/facts';
import { fetchTracepointListing, probeNode, type NodeProbe } from '../core/nodes/probe';
import { LocalTransport } from '../core/nodes/transport';
import { SymbolCache } from '../core/symbols/cache';
import type { SymbolTable } from '../core/symbols/table';
import type { BinaryEntry } from './facts';
import { LOCAL_NODE } from '../common/nodes';
import type { Target, Targets } from './targets';

export class MachineFactsService {
  private localProbe?: Promise<NodeProbe>;
  /** Binary fetches in flight, per node and target. */
  private readonly fetching = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  /** After shutdown, facts that arrive late change nothing (the connection is gone). */
  private stopped = false;

  constructor(
    private readonly connection: Pick<Connection, 'sendRequest' | 'console'>,
    private readonly targets: Targets,
    private readonly revalidateAll: () => void,
    private readonly symbols: SymbolCache = new SymbolCache(),
  ) {}

  /** This machine's facts and tracepoints, through the same probe and readers as a node's. */
  async readLocal(): Promise<void> {
    try {
      const transport = new LocalTransport();
      this.localProbe = probeNode(transport);
      const probe = await this.localProbe;
      const facts = await readNodeFacts(transport, probe);
      const listing = await fetchTracepointListing(transport, probe).catch(() => undefined);
      if (listing)
        this.targets.setNode({
          nodeId: LOCAL_NODE,
          kernelRelease: probe.kernelRelease,
          tracepointListing: listing,
        });
      this.targets.setNodeFacts(facts);
      this.revalidate();
    } catch (error) {
      this.warn(`Facts of this machine: ${(error as Error).message}`);
    }
  }

  /** After an analysis: binaries it named that the target has no facts for are read once. */
  fetchWanted(target: Target): void {
    const nodeId = target.nodeId;
    if (!nodeId || !target.facts) return;
    const wanted = target.facts.takeWanted().filter((t) => !this.fetching.has(`${nodeId}\n${t}`));
    if (!wanted.length) return;
    for (const t of wanted) this.fetching.add(`${nodeId}\n${t}`);
    const done: Promise<void> = this.binaries(nodeId, wanted)
      .catch((error: Error) => {
        // Known as unreadable, so that the next keystroke does not ask the node again.
        this.warn(`Binaries ${wanted.join(', ')} on ${nodeId}: ${error.message}`);
        const symbolsProblem = `they could not be read on ${nodeId}: ${error.message.slice(0, 300)}`;
        return wanted.map((target) => ({ facts: { target, exists: true, symbolsProblem } }));
      })
      .then((entries) => {
        this.targets.setBinaryFacts(nodeId, entries);
        this.revalidate();
      })
      .catch((error: Error) => this.warn(`Binaries ${wanted.join(', ')} on ${nodeId}: ${error.message}`))
      .finally(() => {
        for (const t of wanted) this.fetching.delete(`${nodeId}\n${t}`);
        this.inFlight.delete(done);
      });
    this.inFlight.add(done);
  }

  stop(): void {
    this.stopped = true;
  }

  private revalidate(): void {
    if (!this.stopped) this.revalidateAll();
  }

  /** Facts arrive late: the connection may be gone by then (a closed editor), which is no error. */
  private warn(message: string): void {
    if (this.stopped) return;
    try {
      this.connection.console.warn(message);
    } catch {
      // disposed
    }
  }

  /** Resolves when no binary is being read (the documents were checked again after each). */
  async settled(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }

  private async binaries(nodeId: string, targets: string[]): Promise<BinaryEntry[]> {
    if (nodeId === LOCAL_NODE && this.localProbe)
      return readBinaryFacts(new LocalTransport(), await this.localProbe, targets, this.symbols);
    const answer = await this.connection.sendRequest(BinaryFactsRequest.type, { nodeId, targets });
    return Promise.all(
      answer.map(async (facts) => ({
        facts,
        table: facts.symbolKey ? await this.symbols.byKey(facts.symbolKey) : undefined,
        tables: facts.symbolKeys ? await globTables(this.symbols, facts.symbolKeys) : undefined,
      })),
    );
  }
}

/** A glob's tables, all or none (a table the cache lost leaves the glob unchecked). */
async function globTables(symbols: SymbolCache, keys: string[]): Promise<SymbolTable[] | undefined> {
  const tables = await Promise.all(keys.slice(0, GLOB_TABLES_MAX).map((k) => symbols.byKey(k)));
  return tables.every((t) => t !== undefined) ? (tables as SymbolTable[]) : undefined;
}
