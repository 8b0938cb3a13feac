// Which nodes the pickers offer, and what they are called: this machine first, then the
// `fieldtrace.nodes` setting, then the hosts of ~/.ssh/config, each once.
import { LOCAL_NODE, LOCAL_NODE_LABEL } from '../../common/nodes';

export interface NodeChoice {
  id: string;
  label: string;
  description: string;
}

export function nodeLabel(nodeId: string): string {
  return nodeId === LOCAL_NODE ? LOCAL_NODE_LABEL : nodeId;
}

export function nodeChoices(configured: readonly string[], sshHosts: readonly string[]): NodeChoice[] {
  const nodes: NodeChoice[] = [{ id: LOCAL_NODE, label: LOCAL_NODE_LABEL, description: 'local bpftrace' }];
  const add = (id: string, description: string) => {
    if (!nodes.some((n) => n.id === id)) nodes.push({ id, label: nodeLabel(id), description });
  };
  for (const id of configured) add(id, 'fieldtrace.nodes');
  for (const id of sshHosts) add(id, '~/.ssh/config');
  return nodes;
}
