// Node ids, shared by every side: a node is this machine or an SSH host alias as the user named
// it; the id travels in events, logs, settings and LSP messages.

/** The id of this machine as a node. */
export const LOCAL_NODE = 'local';
