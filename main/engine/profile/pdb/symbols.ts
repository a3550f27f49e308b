import { Cursor } from './cursor.js';
import type { SectionHeader } from './dbi.js';
import type { MsfFile } from './msf.js';

/** CodeView symbol kinds (cvinfo.h SYM_ENUM_e) found in the PDB's symbol record stream. */
const S_PUB32 = 0x110e;
const S_LDATA32 = 0x110c;
const S_GDATA32 = 0x110d;

export interface PdbSymbol {
  /** Name as stored (publics are decorated: `_PsActiveProcessHead` on x86, `?foo@X@@QEAAXXZ` for C++). */
  readonly name: string;
  readonly rva: number;
  readonly segment: number;
  readonly offset: number;
  readonly kind: 'public' | 'global' | 'local';
  /** CV_PUBSYMFLAGS for publics (bit 1 = function), 0 otherwise. */
  readonly flags: number;
}

/**
 * The symbol record stream holds every record the public and global hash streams point at, so one
 * linear walk finds all S_PUB32 / S_GDATA32 / S_LDATA32 records without reading the hash tables.
 * RVA = VirtualAddress of section `segment` (1-based) + offset (DBI section map is identity for PE images).
 */
export function readSymbolRecords(msf: MsfFile, streamIndex: number, sections: readonly SectionHeader[]): PdbSymbol[] {
  const bytes = msf.stream(streamIndex, 'symbol record');
  const c = new Cursor(bytes, `${msf.label} symbol record stream ${streamIndex}`);
  const out: PdbSymbol[] = [];
  while (c.remaining >= 4) {
    const start = c.pos;
    const len = c.u16();
    if (len < 2 || len > c.remaining) c.fail(`record at offset ${start} has invalid length ${len}`);
    const end = c.pos + len;
    const kind = c.u16();
    if (kind === S_PUB32 || kind === S_GDATA32 || kind === S_LDATA32) {
      const rc = new Cursor(bytes, c.what, c.pos, end);
      const first = rc.u32(); // flags (S_PUB32) or type index (S_xDATA32)
      const offset = rc.u32();
      const segment = rc.u16();
      const name = rc.cstring();
      const section = sections[segment - 1];
      // Segment 0 / beyond the section table = absolute or linker-internal symbols without an RVA.
      if (section && segment > 0) {
        out.push({
          name,
          rva: section.virtualAddress + offset,
          segment,
          offset,
          kind: kind === S_PUB32 ? 'public' : kind === S_GDATA32 ? 'global' : 'local',
          flags: kind === S_PUB32 ? first : 0,
        });
      }
    }
    c.pos = end;
  }
  return out;
}
