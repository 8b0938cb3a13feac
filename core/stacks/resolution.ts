// What resolving a frame gives: where to open it and how it was found. Shared by the source-index
// resolver (resolver.ts) and the DWARF resolver (dwarf.ts), and shown by the CLI and the editor.
import type { ParsedSymbol } from './symbol';

export interface Location {
  file: string;
  /** 1-based. */
  line: number;
  /** 0-based. */
  column: number;
}

export interface Resolution {
  /** The frame as written. */
  frame: string;
  /** Demangled symbol text ('' for a bare address). */
  symbol: string;
  parsed?: ParsedSymbol;
  /** Where to open; absent when unresolved. */
  location?: Location;
  resolvedBy?: 'index' | 'dwarf';
  /** Why it is unresolved, or how it was resolved when that needs saying (lambda choice, thunk). */
  reason?: string;
  /** Qualified name and parameters of the definition opened. */
  definition?: string;
  /** Near matches (not opened): other overloads, renamed functions. */
  candidates?: Array<Location & { definition: string }>;
  /** Inline chain from DWARF, innermost first. */
  inlined?: Array<Location & { function: string }>;
  /** Module the frame is in, when printed. */
  module?: string;
}
