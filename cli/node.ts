// The one way the commands reach a node: this machine for "local", else SSH with the user's
// ~/.ssh/config and known_hosts. A terminal run has nobody to ask about an unknown host key:
// it is refused with its fingerprint (or accepted and recorded with --yes-new-host-key).
import { type CliIo, write } from './command';
import { LocalTransport, type NodeTransport } from '../core/nodes/transport';
import { connectSsh } from '../core/ssh/client';
import { defaultSshEnvironment } from '../core/ssh/config';
import { LOCAL_NODE } from '../common/nodes';

export async function connectNode(
  node: string,
  io: CliIo,
  /** `acceptNewHostKey` undefined: the command has no --yes-new-host-key. */
  opts: { command: string; acceptNewHostKey?: boolean },
): Promise<NodeTransport> {
  if (node === LOCAL_NODE) return new LocalTransport();
  return connectSsh(node, {
    env: defaultSshEnvironment(io.env),
    callbacks: {
      confirmUnknownHostKey: async (key) => {
        const where = key.port === 22 ? key.host : `[${key.host}]:${key.port}`;
        write(
          io.stderr,
          `fieldtrace ${opts.command}: the host key of ${key.alias} (${where}, ${key.keyType} ${key.fingerprint}) is not in known_hosts.`,
        );
        if (opts.acceptNewHostKey) {
          write(io.stderr, 'Accepted (--yes-new-host-key); recording it in known_hosts.');
          return true;
        }
        const flag = opts.acceptNewHostKey === undefined ? '' : ', or pass --yes-new-host-key';
        write(io.stderr, `Refused: connect once with ssh to check and record it${flag}.`);
        return false;
      },
    },
  });
}
