// What a catalog answers: tracepoints and their fields, struct layouts, include constants and
// kernel enums. Its own module so that the listing parser and the catalog builder both use it
// without importing each other.

export interface TracepointField {
  name: string;
  /** C type, e.g. "struct sockaddr *"; arrays carry their size ("char[16]", "__data_loc char[]"). */
  type: string;
  isArray?: boolean;
}
export interface StructMember {
  name: string;
  type: string;
}
export interface Catalog {
  /** Kernel release stamp. */
  kernel: string;
  origin: 'bundled' | 'node';
  categories(): string[];
  events(category: string): string[];
  /** undefined = unknown tracepoint. */
  fields(category: string, event: string): TracepointField[] | undefined;
  /** 'sockaddr_in' etc (without 'struct '). Named nested records are 'in6_addr.in6_u'. */
  struct(name: string): StructMember[] | undefined;
  /** uapi constants a #include brings, e.g. 'linux/in.h' -> AF_INET=2... */
  constants(header: string): Map<string, number> | undefined;
  /** A kernel BTF enumerator (bpftrace resolves bare identifiers against these, e.g. TASK_COMM_LEN). */
  enumConstant(name: string): number | undefined;
}
