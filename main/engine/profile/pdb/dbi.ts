import { formatError } from '../../errors.js';
import { Cursor } from './cursor.js';
import { DBI_STREAM } from './info-stream.js';
import type { MsfFile } from './msf.js';

/**
 * DBI stream (stream 3, LLVM docs "The PDB DBI Stream"): a 64-byte header naming the global/public
 * symbol streams and the symbol record stream, then substreams in a fixed order — module info,
 * section contributions, section map, file info, type server map, EC, optional debug header. We only
 * need the header and the optional debug header (its 6th entry is the section header stream).
 */
export interface DbiInfo {
  readonly age: number;
  readonly globalStream: number;
  readonly publicStream: number;
  readonly symRecordStream: number;
  /** IMAGE_FILE_HEADER.Machine: 0x8664 x64, 0x14c x86, 0xaa64 ARM64. */
  readonly machine: number;
  readonly sectionHeaderStream: number;
  /** OMAP from source present: public offsets are then pre-link and need remapping (unsupported). */
  readonly hasOmap: boolean;
}

export const NO_STREAM = 0xffff;

export function readDbi(msf: MsfFile): DbiInfo {
  const c = new Cursor(msf.stream(DBI_STREAM, 'DBI'), `${msf.label} DBI stream`);
  const signature = c.i32();
  const version = c.u32();
  if (signature !== -1) c.fail(`bad version signature ${signature} (expected -1)`);
  if (version < 19990903) c.fail(`unsupported DBI version ${version}`);
  const age = c.u32();
  const globalStream = c.u16();
  c.u16(); // build number
  const publicStream = c.u16();
  c.u16(); // pdb dll version
  const symRecordStream = c.u16();
  c.u16(); // pdb dll rebuild
  const sizes = [c.i32(), c.i32(), c.i32(), c.i32(), c.i32()]; // mod info, sec contrib, sec map, file info, type server map
  c.u32(); // MFC type server index
  const optDbgSize = c.i32();
  const ecSize = c.i32();
  c.u16(); // flags
  const machine = c.u16();
  c.u32(); // padding
  for (const s of [...sizes, optDbgSize, ecSize]) if (s < 0 || s > c.remaining) c.fail(`substream size ${s} exceeds the stream`);
  // Skip module info, section contributions, section map, file info, type server map and EC substreams.
  c.skip(sizes.reduce((a, b) => a + b, 0) + ecSize);
  const dbg: number[] = [];
  const dc = new Cursor(c.bytes, c.what + ' optional debug header', c.pos, c.pos + Math.min(optDbgSize, c.remaining));
  while (dc.remaining >= 2 && dbg.length < 16) dbg.push(dc.u16());
  const at = (i: number): number => dbg[i] ?? NO_STREAM;
  return {
    age,
    globalStream,
    publicStream,
    symRecordStream,
    machine,
    sectionHeaderStream: at(5),
    hasOmap: at(4) !== NO_STREAM && at(4) !== 0,
  };
}

export interface SectionHeader {
  readonly name: string;
  readonly virtualAddress: number;
  readonly virtualSize: number;
}

/** Section header stream: an array of 40-byte IMAGE_SECTION_HEADERs copied from the PE. */
export function readSectionHeaders(msf: MsfFile, dbi: DbiInfo): SectionHeader[] {
  if (dbi.sectionHeaderStream === NO_STREAM || !msf.hasStream(dbi.sectionHeaderStream)) {
    throw formatError(`${msf.label} DBI stream`, 'has no section header stream, so symbol RVAs cannot be computed');
  }
  const bytes = msf.stream(dbi.sectionHeaderStream, 'section header');
  const c = new Cursor(bytes, `${msf.label} section header stream`);
  if (bytes.length % 40 !== 0) c.fail(`size ${bytes.length} is not a multiple of IMAGE_SECTION_HEADER (40 bytes)`);
  const out: SectionHeader[] = [];
  while (c.remaining >= 40) {
    const raw = c.bytesOf(8);
    const nul = raw.indexOf(0);
    const name = new TextDecoder('latin1').decode(raw.subarray(0, nul < 0 ? 8 : nul));
    const virtualSize = c.u32();
    const virtualAddress = c.u32();
    c.skip(24);
    out.push({ name, virtualAddress, virtualSize });
  }
  return out;
}
