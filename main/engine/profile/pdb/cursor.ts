import { formatError } from '../../errors.js';

/**
 * Bounds-checked little-endian reader over one PDB stream. Every read past the end is a format error
 * naming the stream (`what`), so corrupt records can never read outside their stream or loop forever.
 */
export class Cursor {
  pos: number;
  private readonly view: DataView;

  constructor(readonly bytes: Uint8Array, readonly what: string, start = 0, readonly end = bytes.length) {
    this.pos = start;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  fail(problem: string): never {
    throw formatError(this.what, problem);
  }

  need(n: number): void {
    if (n < 0 || this.pos + n > this.end) this.fail(`truncated: need ${n} bytes at offset ${this.pos}, record ends at ${this.end}`);
  }

  u8(): number { this.need(1); return this.view.getUint8(this.pos++); }
  u16(): number { this.need(2); const v = this.view.getUint16(this.pos, true); this.pos += 2; return v; }
  i16(): number { this.need(2); const v = this.view.getInt16(this.pos, true); this.pos += 2; return v; }
  u32(): number { this.need(4); const v = this.view.getUint32(this.pos, true); this.pos += 4; return v; }
  i32(): number { this.need(4); const v = this.view.getInt32(this.pos, true); this.pos += 4; return v; }

  skip(n: number): void { this.need(n); this.pos += n; }

  bytesOf(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** NUL-terminated UTF-8 string (CodeView names). A missing terminator ends at the record end. */
  cstring(): string {
    let stop = this.pos;
    while (stop < this.end && this.bytes[stop] !== 0) stop++;
    const s = utf8.decode(this.bytes.subarray(this.pos, stop));
    this.pos = Math.min(stop + 1, this.end);
    return s;
  }

  /**
   * CodeView numeric leaf (cvinfo.h LF_NUMERIC): a u16 below 0x8000 is the value itself; otherwise it
   * names the type of the value that follows. Values beyond 2^53 are not needed for offsets/sizes and
   * are reported as an error rather than silently rounded.
   */
  numeric(): number {
    const leaf = this.u16();
    if (leaf < 0x8000) return leaf;
    switch (leaf) {
      case 0x8000: { this.need(1); const v = this.view.getInt8(this.pos); this.pos += 1; return v; } // LF_CHAR
      case 0x8001: return this.i16(); // LF_SHORT
      case 0x8002: return this.u16(); // LF_USHORT
      case 0x8003: return this.i32(); // LF_LONG
      case 0x8004: return this.u32(); // LF_ULONG
      case 0x8009: // LF_QUADWORD
      case 0x800a: { // LF_UQUADWORD
        this.need(8);
        const v = leaf === 0x8009 ? this.view.getBigInt64(this.pos, true) : this.view.getBigUint64(this.pos, true);
        this.pos += 8;
        // Only enumerator values can exceed 2^53 (e.g. 0xFFFFFFFFFFFFFFFF masks); they round, sizes/offsets never do.
        return Number(v);
      }
      default:
        return this.fail(`unsupported numeric leaf 0x${leaf.toString(16)} at offset ${this.pos - 2}`);
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: false });
