// Nodes for the extension: "This machine", the `fieldtrace.nodes` setting and the hosts of
// ~/.ssh/config. Owns the SSH connections (one per node, reused), the host-key prompt, the
// passphrases (SecretStorage only), the probe cache, and pushes each probed node's bpftrace
// version and tracepoint catalog to the language server.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  type BinaryFacts,
  type BinaryFactsParams,
  SetDocumentTargetNotification,
  SetNodeFactsNotification,
  SetNodeTargetNotification,
} from '../../common/protocol';
import { NodeFactsCache, readBinaryFacts } from '../../core/nodes/facts';
import { NodeProbeCache, type NodeProbe, TracepointCatalogCache } from '../../core/nodes/probe';
import { SymbolCache } from '../../core/symbols/cache';
import type { SymbolTable } from '../../core/symbols/table';
import { LocalTransport, type NodeTransport } from '../../core/nodes/transport';
import { connectSsh, type SshCallbacks, type UnknownHostKey } from '../../core/ssh/client';
import { configuredHosts, defaultSshEnvironment, loadSshConfig } from '../../core/ssh/config';
import type { Configuration } from '../configuration';
import { notify } from '../notify';
import { LOCAL_NODE } from '../../common/nodes';
import { type NodeChoice, nodeChoices, nodeLabel } from './node-choices';

export interface NodeManagerDeps {
  log: vscode.LogOutputChannel;
  /** Where SSH key passphrases are kept (never in settings or files). */
  secrets: vscode.SecretStorage;
  configuration: Configuration;
  /** The running language client, told each probed node's dialect and catalog. */
  languageClient(): LanguageClient | undefined;
}

export class NodeManager implements vscode.Disposable {
  private readonly connections = new Map<string, Promise<NodeTransport>>();
  private readonly probes = new NodeProbeCache();
  private readonly catalogs = new TracepointCatalogCache();
  private readonly facts = new NodeFactsCache();
  /** The symbol cache by build-id on local disk, shared with the language server. */
  private readonly symbols = new SymbolCache();
  private readonly local = new LocalTransport();

  constructor(private readonly deps: NodeManagerDeps) {}

  /** This machine first, then the setting's nodes, then the SSH config's hosts. */
  listNodes(): NodeChoice[] {
    let sshHosts: string[] = [];
    try {
      sshHosts = configuredHosts(loadSshConfig(defaultSshEnvironment()));
    } catch (error) {
      this.deps.log.warn(`Reading ~/.ssh/config: ${error instanceof Error ? error.message : String(error)}`);
    }
    return nodeChoices(this.deps.configuration.settings.nodes, sshHosts);
  }

  label(nodeId: string): string {
    return nodeLabel(nodeId);
  }

  /** The node's transport, connecting (with host-key and passphrase prompts) when needed. */
  connect(nodeId: string): Promise<NodeTransport> {
    if (nodeId === LOCAL_NODE) return Promise.resolve(this.local);
    let connection = this.connections.get(nodeId);
    if (!connection) {
      connection = connectSsh(nodeId, { env: defaultSshEnvironment(), callbacks: this.callbacks() });
      this.connections.set(nodeId, connection);
      connection.then(
        (c) =>
          void c.closed.then(() => {
            if (this.connections.get(nodeId) === connection) this.connections.delete(nodeId);
            this.probes.forget(nodeId);
          }),
        () => this.connections.delete(nodeId),
      );
    }
    return connection;
  }

  async probe(nodeId: string): Promise<{ transport: NodeTransport; probe: NodeProbe }> {
    const transport = await this.connect(nodeId);
    const probe = await this.probes.get(transport);
    this.deps.log.info(
      `${this.label(nodeId)}: bpftrace ${probe.bpftraceVersion ?? 'missing'}, kernel ${probe.kernelRelease}, ${probe.privilege ?? 'no privileges'}, tracefs ${probe.tracefs ?? 'missing'}, BTF ${probe.btf ? 'yes' : 'no'}`,
    );
    void this.pushNodeTarget(transport, probe);
    return { transport, probe };
  }

  /** Tells the language server the node's dialect and catalog, and which document runs there. */
  async pushNodeTarget(transport: NodeTransport, probe: NodeProbe, documentUri?: string): Promise<void> {
    const client = this.deps.languageClient();
    if (!client) return;
    await client.sendNotification(SetNodeTargetNotification.type, {
      nodeId: probe.nodeId,
      bpftraceVersion: probe.bpftraceVersion,
      kernelRelease: probe.kernelRelease,
    });
    if (documentUri)
      await client.sendNotification(SetDocumentTargetNotification.type, {
        uri: documentUri,
        nodeId: probe.nodeId,
      });
    if (!probe.privilege || !probe.bpftracePath) return;
    try {
      const listing = await this.catalogs.get(transport, probe);
      await client.sendNotification(SetNodeTargetNotification.type, {
        nodeId: probe.nodeId,
        bpftraceVersion: probe.bpftraceVersion,
        kernelRelease: probe.kernelRelease,
        tracepointListing: listing,
      });
    } catch (error) {
      this.deps.log.warn(
        `Tracepoint catalog of ${this.label(probe.nodeId)}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    try {
      await client.sendNotification(SetNodeFactsNotification.type, await this.facts.get(transport, probe));
    } catch (error) {
      this.deps.log.warn(
        `Machine facts of ${this.label(probe.nodeId)}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /** The language server asks for binaries its documents bound to a node name (once each). */
  async binaryFacts(params: BinaryFactsParams): Promise<BinaryFacts[]> {
    // Not probe(): that pushes the node's facts again, which would start the asking over.
    const transport = await this.connect(params.nodeId);
    const probe = await this.probes.get(transport);
    const entries = await readBinaryFacts(transport, probe, params.targets.slice(0, 64), this.symbols);
    return entries.map((e) => e.facts);
  }

  /** A binary's function symbols on a node, through the one symbol cache (read once per build-id). */
  async symbolTable(nodeId: string, binary: string): Promise<SymbolTable> {
    const transport = await this.connect(nodeId);
    const probe = await this.probes.get(transport);
    return this.symbols.tableFor({ transport, privilege: probe.privilege }, binary);
  }

  private callbacks(): SshCallbacks {
    const secrets = this.deps.secrets;
    const secretKey = (file: string) => `fieldtrace.passphrase:${file}`;
    return {
      confirmUnknownHostKey: (prompt) => confirmHostKey(prompt),
      askPassphrase: async (file, failed) => {
        if (!failed) {
          const saved = await secrets.get(secretKey(file));
          if (saved !== undefined) return saved;
        }
        return vscode.window.showInputBox({
          title: 'Fieldtrace: SSH key passphrase',
          prompt: `${failed ? 'Wrong passphrase. ' : ''}Passphrase for ${file}`,
          password: true,
          ignoreFocusOut: true,
        });
      },
      passphraseAccepted: (file, passphrase) => void secrets.store(secretKey(file), passphrase),
      passphraseRejected: (file) => void secrets.delete(secretKey(file)),
    };
  }

  dispose(): void {
    for (const c of this.connections.values())
      void c.then(
        (t) => t.close(),
        () => undefined,
      );
    this.connections.clear();
    this.local.close();
  }
}

async function confirmHostKey(prompt: UnknownHostKey): Promise<boolean> {
  const where = prompt.port === 22 ? prompt.host : `[${prompt.host}]:${prompt.port}`;
  const accept = 'Accept and Connect';
  const detail = [
    `The authenticity of host '${where}' (${prompt.alias}) can't be established.`,
    `${prompt.keyType} key fingerprint is ${prompt.fingerprint}.`,
    'Compare it with the fingerprint on the node (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) before accepting. The key will be added to ~/.ssh/known_hosts.',
  ]
    .filter(Boolean)
    .join('\n');
  const choice = await notify.modalWarning(`Unknown SSH host key for ${prompt.alias}`, detail, accept);
  return choice === accept;
}
