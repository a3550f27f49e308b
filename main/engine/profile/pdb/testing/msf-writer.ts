/**
 * Test support: lay streams out into a fresh MSF 7.0 file, so tests can replace one stream of a real
 * PDB with hand-made (corrupt or minimal) contents and feed the result to the reader.
 */
import { MSF_MAGIC, MsfFile } from '../msf.js';

export function writeMsf(streams: readonly (Uint8Array | null)[], blockSize = 4096): Uint8Array {
  const blocksOf = (n: number): number => Math.ceil(n / blockSize);
  let next = 3; // block 0 superblock, 1-2 free block maps
  const lists = streams.map((s) => {
    const list: number[] = [];
    for (let i = 0; i < blocksOf(s?.length ?? 0); i++) list.push(next++);
    return list;
  });
  const dirSize = 4 + streams.length * 4 + lists.reduce((a, l) => a + l.length * 4, 0);
  const dirBlocks: number[] = [];
  for (let i = 0; i < blocksOf(dirSize); i++) dirBlocks.push(next++);
  const blockMap = next++;
  const out = new Uint8Array(next * blockSize);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < MSF_MAGIC.length; i++) out[i] = MSF_MAGIC.charCodeAt(i);
  dv.setUint32(32, blockSize, true);
  dv.setUint32(36, 1, true);
  dv.setUint32(40, next, true);
  dv.setUint32(44, dirSize, true);
  dv.setUint32(52, blockMap, true);
  streams.forEach((s, i) => {
    if (s) lists[i]!.forEach((b, j) => out.set(s.subarray(j * blockSize, (j + 1) * blockSize), b * blockSize));
  });
  const dir = new Uint8Array(dirSize);
  const ddv = new DataView(dir.buffer);
  ddv.setUint32(0, streams.length, true);
  let pos = 4;
  streams.forEach((s) => { ddv.setUint32(pos, s ? s.length : 0xffffffff, true); pos += 4; });
  for (const l of lists) for (const b of l) { ddv.setUint32(pos, b, true); pos += 4; }
  dirBlocks.forEach((b, j) => {
    out.set(dir.subarray(j * blockSize, (j + 1) * blockSize), b * blockSize);
    dv.setUint32(blockMap * blockSize + j * 4, b, true);
  });
  return out;
}

/** All streams of an existing PDB, with some replaced. */
export function replaceStreams(pdb: Uint8Array, replacements: ReadonlyMap<number, Uint8Array>): Uint8Array {
  const msf = MsfFile.open(pdb);
  const streams: (Uint8Array | null)[] = [];
  for (let i = 0; i < msf.streamCount; i++) streams.push(replacements.get(i) ?? (msf.streamSize(i) ? msf.stream(i, 'copy') : null));
  return writeMsf(streams, msf.superBlock.blockSize);
}

/** A CodeView type record: u16 length (excluding itself), u16 leaf, payload padded to 4 bytes. */
export function typeRecord(leaf: number, payload: readonly number[]): number[] {
  const body = [leaf & 0xff, leaf >> 8, ...payload];
  while ((body.length + 2) % 4) body.push(0xf0 | (4 - ((body.length + 2) % 4)));
  return [body.length & 0xff, body.length >> 8, ...body];
}

export const u16 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff];
export const u32 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];
export const cstr = (s: string): number[] => [...Buffer.from(s, 'utf8'), 0];

/** TPI stream: 56-byte header (version 20040203, no hash streams) followed by the records. */
export function tpiStream(records: readonly number[][], overrides: { begin?: number; count?: number; recordBytes?: number } = {}): Uint8Array {
  const body = records.flat();
  const begin = overrides.begin ?? 0x1000;
  const header = [
    ...u32(20040203), ...u32(56), ...u32(begin), ...u32(begin + (overrides.count ?? records.length)),
    ...u32(overrides.recordBytes ?? body.length), ...u16(0xffff), ...u16(0xffff), ...u32(4), ...u32(0x3ffff),
    ...new Array<number>(24).fill(0),
  ];
  return Uint8Array.from([...header, ...body]);
}
