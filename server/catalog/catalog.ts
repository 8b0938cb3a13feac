// The tracepoint and type catalog: which tracepoints exist and their fields, struct layouts,
// the constants `#include`s bring, kernel enum constants. The bundled default comes from
// kernel-catalog.json (scripts/gen-catalog.ts); a node's own listing replaces the tracepoints.
import bundledData from './kernel-catalog.json';
import { CATALOG_FORMAT, type CatalogData } from './data';
import { parseFieldLine, parseListing } from './listing';
import { UAPI_HEADERS } from './uapi';
import type { SetCatalogParams } from '../../common/protocol';
import type { Catalog, StructMember, TracepointField } from './types';

export type { Catalog, StructMember, TracepointField } from './types';

/** Struct layouts, include constants and enums shared by every catalog (BTF of the bundled kernel). */
class TypeTables {
  private structCache = new Map<string, StructMember[]>();
  private constantCache = new Map<string, Map<string, number>>();
  private enumTable?: Map<string, number>;

  constructor(private readonly data: CatalogData) {}

  struct(name: string): StructMember[] | undefined {
    const key = name.replace(/^(struct|union)\s+/, '').trim();
    let members = this.structCache.get(key);
    if (!members) {
      const raw = Object.prototype.hasOwnProperty.call(this.data.structs, key)
        ? this.data.structs[key]
        : undefined;
      if (!raw) return undefined;
      members = raw.map(([n, type]) => ({ name: n, type }));
      this.structCache.set(key, members);
    }
    return members;
  }

  constants(header: string): Map<string, number> | undefined {
    const key = header.replace(/^[<"]|[>"]$/g, '').trim();
    let table = this.constantCache.get(key);
    if (!table) {
      const raw = Object.prototype.hasOwnProperty.call(UAPI_HEADERS, key) ? UAPI_HEADERS[key] : undefined;
      if (!raw) return undefined;
      table = new Map(Object.entries(raw));
      this.constantCache.set(key, table);
    }
    return table;
  }

  enumConstant(name: string): number | undefined {
    if (!this.enumTable) {
      this.enumTable = new Map();
      for (const pair of this.data.enums.split(',')) {
        const eq = pair.indexOf('=');
        if (eq > 0) this.enumTable.set(pair.slice(0, eq), Number(pair.slice(eq + 1)));
      }
    }
    return this.enumTable.get(name);
  }
}

/** Tracepoints held as category -> event -> fields (parsed lazily where stored as text). */
class TracepointCatalog implements Catalog {
  private fieldCache = new Map<string, TracepointField[]>();

  constructor(
    readonly kernel: string,
    readonly origin: 'bundled' | 'node',
    private readonly tracepoints: Map<string, Map<string, () => TracepointField[]>>,
    private readonly types: TypeTables,
  ) {}

  categories(): string[] {
    return [...this.tracepoints.keys()];
  }

  events(category: string): string[] {
    return [...(this.tracepoints.get(category)?.keys() ?? [])];
  }

  fields(category: string, event: string): TracepointField[] | undefined {
    const key = `${category}:${event}`;
    let fields = this.fieldCache.get(key);
    if (!fields) {
      const load = this.tracepoints.get(category)?.get(event);
      if (!load) return undefined;
      fields = load();
      this.fieldCache.set(key, fields);
    }
    return fields;
  }

  struct(name: string): StructMember[] | undefined {
    return this.types.struct(name);
  }

  constants(header: string): Map<string, number> | undefined {
    return this.types.constants(header);
  }

  enumConstant(name: string): number | undefined {
    return this.types.enumConstant(name);
  }
}

function checkData(data: CatalogData): CatalogData {
  if (data.format !== CATALOG_FORMAT || typeof data.kernel !== 'string' || !data.tracepoints) {
    throw new Error(`catalog data has format ${String(data.format)}, expected ${CATALOG_FORMAT}`);
  }
  return data;
}

function fromData(data: CatalogData, origin: 'bundled' | 'node', types: TypeTables): Catalog {
  const tracepoints = new Map<string, Map<string, () => TracepointField[]>>();
  const sets: Array<TracepointField[] | undefined> = [];
  const fieldSet = (index: number) => () =>
    (sets[index] ??= (data.fieldSets[index] ?? '')
      .split(';')
      .map((line) => parseFieldLine(line))
      .filter((f): f is NonNullable<typeof f> => f !== undefined)
      .map(({ name, type, isArray }) => (isArray ? { name, type, isArray } : { name, type })));
  for (const [category, events] of Object.entries(data.tracepoints)) {
    const byEvent = new Map<string, () => TracepointField[]>();
    for (const [event, index] of Object.entries(events)) byEvent.set(event, fieldSet(index));
    tracepoints.set(category, byEvent);
  }
  return new TracepointCatalog(data.kernel, origin, tracepoints, types);
}

let bundled: Catalog | undefined;
let bundledTypes: TypeTables | undefined;

function sharedTypes(): TypeTables {
  return (bundledTypes ??= new TypeTables(checkData(bundledData as unknown as CatalogData)));
}

/** The catalog generated from the project's reference kernel (see `kernel`). */
export function bundledCatalog(): Catalog {
  return (bundled ??= fromData(checkData(bundledData as unknown as CatalogData), 'bundled', sharedTypes()));
}

/**
 * A node's catalog from its `bpftrace -lv 'tracepoint:*'` output. Struct layouts and enums still
 * come from the bundled BTF (a listing has none); include constants are the kernel ABI anyway.
 */
export function catalogFromListing(listing: string, kernel: string): Catalog {
  const tracepoints = new Map<string, Map<string, () => TracepointField[]>>();
  for (const [key, fields] of parseListing(listing)) {
    const colon = key.indexOf(':');
    const category = key.slice(0, colon);
    let byEvent = tracepoints.get(category);
    if (!byEvent) tracepoints.set(category, (byEvent = new Map()));
    const plain = fields.map(({ name, type, isArray }) =>
      isArray ? { name, type, isArray } : { name, type },
    );
    byEvent.set(key.slice(colon + 1), () => plain);
  }
  return new TracepointCatalog(kernel, 'node', tracepoints, sharedTypes());
}

/** A catalog file as written by `npm run gen:catalog` (the `--catalog FILE` of the CLI, a node's cache). */
export function catalogFromData(data: unknown, origin: 'bundled' | 'node' = 'node'): Catalog {
  if (!data || typeof data !== 'object') throw new Error('catalog data is not a JSON object');
  return fromData(checkData(data as CatalogData), origin, sharedTypes());
}

/** The catalog a `fieldtrace/setCatalog` request describes (a listing, or a whole catalog file). */
export function catalogFromParams(params: SetCatalogParams): Catalog {
  if (params.catalogData !== undefined) return catalogFromData(params.catalogData);
  if (typeof params.tracepointListing === 'string') {
    return catalogFromListing(params.tracepointListing, params.kernel || 'unknown');
  }
  throw new Error('setCatalog needs tracepointListing or catalogData');
}

/** Counts for a setCatalog answer and status lines. */
export function catalogSize(catalog: Catalog): { categories: number; tracepoints: number } {
  const categories = catalog.categories();
  return {
    categories: categories.length,
    tracepoints: categories.reduce((n, c) => n + catalog.events(c).length, 0),
  };
}
