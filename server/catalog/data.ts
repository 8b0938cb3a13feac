// Shape of the bundled, kernel-stamped catalog file written by scripts/gen-catalog.ts.
export const CATALOG_FORMAT = 1;

export interface CatalogData {
  format: number;
  /** `uname -r` of the kernel the data was read from. */
  kernel: string;
  source: string;
  /** Distinct field lists, each the `-lv` field lines joined by `;`. */
  fieldSets: string[];
  /** category -> event -> index into fieldSets. */
  tracepoints: Record<string, Record<string, number>>;
  /** struct/union name -> [member, C type]; anonymous members are flattened, named nested
   * records appear as `parent.member`. */
  structs: Record<string, Array<[string, string]>>;
  /** Kernel BTF enumerators as `NAME=value` joined by `,` (compact: ~19,000 of them). */
  enums: string;
}
