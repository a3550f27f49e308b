import { formatError } from '../errors.js';

/**
 * Reader of the bundle's global symbol-name table (bundle-writer.ts encodeSymbolNames): ~60k names
 * sorted with the default JS sort (UTF-16 code units, the order of `<`), in gzipped blocks of
 * `blockSize` names plus a "heads" segment of each block's first name. A look-up binary searches the
 * heads, inflates that one block (cached) and binary searches it, so loading a profile costs no
 * 2.5 MB inflate, string decode or 60k-name split; only enumeration touches every block.
 */
export class SymbolNameTable {
  private readonly heads: readonly string[];
  private readonly blocks: (readonly string[] | undefined)[];

  /**
   * @param segment returns the still-compressed bytes of segment `name`
   * @param inflate gunzips one segment (errors name `what`)
   */
  constructor(
    private readonly segment: (name: string) => Uint8Array,
    private readonly inflate: (bytes: Uint8Array, what: string) => Uint8Array,
    readonly count: number,
    private readonly blockSize: number,
    private readonly what: string,
  ) {
    if (!Number.isSafeInteger(count) || count < 1) throw formatError(what, `symbol name count ${count} is invalid`);
    if (!Number.isSafeInteger(blockSize) || blockSize < 1) throw formatError(what, `symbol name block size ${blockSize} is invalid`);
    const blockCount = Math.ceil(count / blockSize);
    this.heads = this.lines('heads', blockCount);
    for (let k = 1; k < blockCount; k++) {
      if (!((this.heads[k - 1] as string) < (this.heads[k] as string))) throw formatError(what, `symbol name heads are not sorted at ${k}`);
    }
    this.blocks = new Array<readonly string[] | undefined>(blockCount);
  }

  /** Index of `name` in the table, or -1. */
  indexOf(name: string): number {
    // last block whose first name is <= name
    let lo = 0;
    let hi = this.heads.length - 1;
    if (name < (this.heads[0] as string)) return -1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((this.heads[mid] as string) <= name) lo = mid;
      else hi = mid - 1;
    }
    const names = this.block(lo);
    let a = 0;
    let b = names.length - 1;
    while (a <= b) {
      const mid = (a + b) >>> 1;
      const n = names[mid] as string;
      if (n === name) return lo * this.blockSize + mid;
      if (n < name) a = mid + 1;
      else b = mid - 1;
    }
    return -1;
  }

  /** Name at `index` (0 <= index < count). */
  name(index: number): string {
    return this.block(Math.floor(index / this.blockSize))[index % this.blockSize] as string;
  }

  /** Every name in index order (inflates every block: for enumeration only). */
  all(): string[] {
    const out: string[] = [];
    for (let k = 0; k < this.blocks.length; k++) for (const n of this.block(k)) out.push(n);
    return out;
  }

  private block(k: number): readonly string[] {
    let names = this.blocks[k];
    if (!names) {
      const want = Math.min(this.blockSize, this.count - k * this.blockSize);
      names = this.lines(`b${k}`, want);
      if (names[0] !== this.heads[k]) throw formatError(this.what, `symbol name block ${k} does not start with its listed head`);
      for (let i = 1; i < names.length; i++) {
        if (!((names[i - 1] as string) < (names[i] as string))) throw formatError(this.what, `symbol name block ${k} is not sorted at ${i}`);
      }
      this.blocks[k] = names;
    }
    return names;
  }

  private lines(segment: string, want: number): string[] {
    const what = `${this.what} ${segment}`;
    const lines = new TextDecoder().decode(this.inflate(this.segment(segment), what)).split('\n');
    if (lines.length !== want) throw formatError(what, `has ${lines.length} names, expected ${want}`);
    return lines;
  }
}
