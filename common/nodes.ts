// Node ids, shared by every side: a node is this machine or an SSH host alias as the user named
// it; the id travels in events, logs, settings and LSP messages.

/** The id of this machine as a node. */
export const LOCAL_NODE = 'local';

/** This machine's name for people, where a node's name stands (pickers, views, titles). */
export const LOCAL_NODE_LABEL = 'This machine';

/** A node's name inside a sentence: "… is not installed on this machine", "… on web-1". */
export function nodeInText(nodeId: string): string {
  return nodeId === LOCAL_NODE ? LOCAL_NODE_LABEL.toLowerCase() : nodeId;
}
