// Names for the numbers a trace carries: socket option levels and names (Linux UAPI values, the
// same on every architecture Envoy runs on), and the ports an Istio sidecar reserves.

const LEVELS: Record<number, string> = {
  0: 'IPPROTO_IP',
  1: 'SOL_SOCKET',
  6: 'IPPROTO_TCP',
  17: 'IPPROTO_UDP',
  41: 'IPPROTO_IPV6',
  263: 'SOL_PACKET',
  282: 'SOL_TLS',
};

const OPTIONS: Record<number, Record<number, string>> = {
  0: {
    1: 'IP_TOS',
    2: 'IP_TTL',
    3: 'IP_HDRINCL',
    4: 'IP_OPTIONS',
    8: 'IP_PKTINFO',
    10: 'IP_MTU_DISCOVER',
    11: 'IP_RECVERR',
    12: 'IP_RECVTTL',
    13: 'IP_RECVTOS',
    15: 'IP_FREEBIND',
    19: 'IP_TRANSPARENT',
    20: 'IP_RECVORIGDSTADDR',
    24: 'IP_BIND_ADDRESS_NO_PORT',
    80: 'SO_ORIGINAL_DST',
  },
  1: {
    1: 'SO_DEBUG',
    2: 'SO_REUSEADDR',
    3: 'SO_TYPE',
    4: 'SO_ERROR',
    5: 'SO_DONTROUTE',
    6: 'SO_BROADCAST',
    7: 'SO_SNDBUF',
    8: 'SO_RCVBUF',
    9: 'SO_KEEPALIVE',
    10: 'SO_OOBINLINE',
    12: 'SO_PRIORITY',
    13: 'SO_LINGER',
    15: 'SO_REUSEPORT',
    16: 'SO_PASSCRED',
    18: 'SO_RCVLOWAT',
    19: 'SO_SNDLOWAT',
    20: 'SO_RCVTIMEO',
    21: 'SO_SNDTIMEO',
    25: 'SO_BINDTODEVICE',
    26: 'SO_ATTACH_FILTER',
    30: 'SO_ACCEPTCONN',
    32: 'SO_SNDBUFFORCE',
    33: 'SO_RCVBUFFORCE',
    36: 'SO_MARK',
    46: 'SO_BUSY_POLL',
    49: 'SO_INCOMING_CPU',
    51: 'SO_ATTACH_REUSEPORT_CBPF',
    52: 'SO_ATTACH_REUSEPORT_EBPF',
    60: 'SO_ZEROCOPY',
  },
  6: {
    1: 'TCP_NODELAY',
    2: 'TCP_MAXSEG',
    3: 'TCP_CORK',
    4: 'TCP_KEEPIDLE',
    5: 'TCP_KEEPINTVL',
    6: 'TCP_KEEPCNT',
    7: 'TCP_SYNCNT',
    8: 'TCP_LINGER2',
    9: 'TCP_DEFER_ACCEPT',
    10: 'TCP_WINDOW_CLAMP',
    12: 'TCP_QUICKACK',
    13: 'TCP_CONGESTION',
    14: 'TCP_MD5SIG',
    18: 'TCP_USER_TIMEOUT',
    23: 'TCP_FASTOPEN',
    25: 'TCP_NOTSENT_LOWAT',
    30: 'TCP_FASTOPEN_CONNECT',
  },
  41: {
    26: 'IPV6_V6ONLY',
    49: 'IPV6_RECVPKTINFO',
    67: 'IPV6_TCLASS',
    75: 'IPV6_TRANSPARENT',
    80: 'IP6T_SO_ORIGINAL_DST',
  },
};

/** `SOL_SOCKET/SO_REUSEADDR`; unknown numbers stay visible as numbers. */
export function socketOptionName(level: number, optname: number): string {
  const levelName = LEVELS[level] ?? `level ${level}`;
  const optionName = OPTIONS[level]?.[optname] ?? `optname ${optname}`;
  return `${levelName}/${optionName}`;
}

export const SOL_SOCKET = 1;
export const SO_REUSEPORT = 15;

const ISTIO_PORTS: Record<number, string> = {
  15000: 'Envoy admin',
  15001: 'virtual outbound',
  15006: 'virtual inbound',
  15021: 'health',
  15090: 'Prometheus',
};

/** The role Istio gives a sidecar port, if it is one of the well-known ones. */
export function istioPortLabel(port: number): string | undefined {
  return ISTIO_PORTS[port];
}

/** Envoy names its workers `wrk:worker_N`; returns N. */
export function workerIndex(threadName: string): number | undefined {
  const match = /^wrk:worker_(\d+)$/.exec(threadName);
  return match ? Number(match[1]) : undefined;
}
