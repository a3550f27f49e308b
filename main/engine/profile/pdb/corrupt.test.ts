import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemScopeError } from '../../errors.js';
import { parsePdbIdentity, pdbToProfile } from './index.js';
import { MsfFile } from './msf.js';
import { LF } from './tpi.js';
import { SHARED_PDB_DIR } from './testing/fixtures.js';
import { cstr, replaceStreams, tpiStream, typeRecord, u16, u32 } from './testing/msf-writer.js';

const REAL = new Uint8Array(readFileSync(join(SHARED_PDB_DIR, 'crash.pdb')));

function expectFormatError(run: () => unknown, pattern: RegExp): void {
  let caught: unknown;
  try { run(); } catch (e) { caught = e; }
  expect(caught, 'expected a MemScopeError').toBeInstanceOf(MemScopeError);
  expect((caught as MemScopeError).kind).toBe('format');
  expect((caught as MemScopeError).message).toMatch(pattern);
  expect((caught as MemScopeError).message).not.toContain('\n');
}

const patched = (edit: (dv: DataView, b: Uint8Array) => void): Uint8Array => {
  const b = REAL.slice();
  edit(new DataView(b.buffer), b);
  return b;
};

/** A copy of crash.pdb whose TPI stream is replaced by these records (DBI/symbols stay real). */
const withTypes = (records: number[][], overrides?: Parameters<typeof tpiStream>[1]): Uint8Array =>
  replaceStreams(REAL, new Map([[2, tpiStream(records, overrides)]]));

const struct = (fieldList: number, size: number, name: string): number[] =>
  typeRecord(LF.STRUCTURE, [...u16(1), ...u16(0), ...u32(fieldList), ...u32(0), ...u32(0), ...u16(size), ...cstr(name)]);
const fieldList = (...members: number[][]): number[] => typeRecord(LF.FIELDLIST, members.flat());
const member = (type: number, offset: number, name: string): number[] => [...u16(LF.MEMBER), ...u16(3), ...u32(type), ...u16(offset), ...cstr(name)];

describe('PDB reader on corrupt input', () => {
  it('round-trips a real PDB through the test MSF writer (so the corruptions below are meaningful)', () => {
    const copy = replaceStreams(REAL, new Map());
    expect(pdbToProfile(copy)).toEqual(pdbToProfile(REAL));
  });

  it('rejects a truncated file at every one of 60 cut points with a format error', { timeout: 20_000 }, () => {
    const cuts = [0, 1, 31, 55, 56, 4095, 4096, 8192];
    for (let i = 1; i <= 52; i++) cuts.push(Math.floor((REAL.length * i) / 53));
    for (const cut of cuts) {
      const t = REAL.subarray(0, cut);
      expectFormatError(() => pdbToProfile(t), /PDB/);
      expectFormatError(() => parsePdbIdentity(t), /PDB/);
    }
  });

  it('rejects a bad superblock', () => {
    expectFormatError(() => pdbToProfile(patched((_, b) => { b[0] = 0x4e; })), /not an MSF 7\.0 PDB/);
    expectFormatError(() => pdbToProfile(new TextEncoder().encode('<html><body>not found</body></html>'.padEnd(200))), /not an MSF 7\.0 PDB/);
    expectFormatError(() => pdbToProfile(patched((dv) => dv.setUint32(32, 3000, true))), /invalid block size 3000/);
    expectFormatError(() => pdbToProfile(patched((dv) => dv.setUint32(40, 0x7fffffff, true))), /absurd size/);
    expectFormatError(() => pdbToProfile(patched((dv) => dv.setUint32(44, 0xfffffff0, true))), /stream directory size/);
  });

  it('rejects a block map or stream block pointing past the end of the file', () => {
    expectFormatError(() => pdbToProfile(patched((dv) => dv.setUint32(52, 0x100000, true))), /block map address .* outside the file/);
    const sb = MsfFile.open(REAL).superBlock;
    expectFormatError(() => pdbToProfile(patched((dv) => dv.setUint32(sb.blockMapAddr * sb.blockSize, 0xfffff, true))), /directory block 0 points to block/);
  });

  it('rejects a directory with an absurd stream count or stream size', () => {
    const sb = MsfFile.open(REAL).superBlock;
    const dirBlock = new DataView(REAL.buffer, REAL.byteOffset).getUint32(sb.blockMapAddr * sb.blockSize, true);
    expectFormatError(() => pdbToProfile(patched((dv) => dv.setUint32(dirBlock * sb.blockSize, 0x40000000, true))), /declares 1073741824 streams/);
    expectFormatError(() => pdbToProfile(patched((dv) => dv.setUint32(dirBlock * sb.blockSize + 4 + 2 * 4, 0x7ffffff0, true))), /stream 2 declares .* more than the whole file/);
  });

  it('converts hand-made type records (bitfield, array, pointer, forward reference) as expected', () => {
    const p = pdbToProfile(withTypes([
      typeRecord(LF.STRUCTURE, [...u16(0), ...u16(0x80 | 0x200), ...u32(0), ...u32(0), ...u32(0), ...u16(0), ...cstr('_S'), ...cstr('.?AU_S@@')]), // 0x1000 forward ref
      typeRecord(LF.POINTER, [...u32(0x1000), ...u32(0x1000c)]), // 0x1001: 64-bit pointer to _S
      typeRecord(LF.BITFIELD, [...u32(0x22), 5, 3]), // 0x1002: unsigned long :5 at bit 3
      typeRecord(LF.ARRAY, [...u32(0x21), ...u32(0x23), ...u16(12)]), // 0x1003: unsigned short[6]
      fieldList(member(0x1001, 0, 'Next'), member(0x1002, 8, 'Bits'), member(0x1003, 12, 'Arr')), // 0x1004
      typeRecord(LF.STRUCTURE, [...u16(3), ...u16(0x200), ...u32(0x1004), ...u32(0), ...u32(0), ...u16(24), ...cstr('_S'), ...cstr('.?AU_S@@')]), // 0x1005
    ]));
    expect(p.types._S).toEqual({
      kind: 'struct',
      size: 24,
      fields: {
        Next: { offset: 0, type: { kind: 'pointer', subtype: { kind: 'struct', name: '_S' } } },
        Bits: { offset: 8, type: { kind: 'bitfield', bitPosition: 3, bitLength: 5, type: { kind: 'base', name: 'unsigned long' } } },
        Arr: { offset: 12, type: { kind: 'array', count: 6, subtype: { kind: 'base', name: 'unsigned short' } } },
      },
    });
  });

  it('rejects cyclic type reference chains instead of recursing forever', { timeout: 5_000 }, () => {
    const pdb = withTypes([
      typeRecord(LF.MODIFIER, [...u32(0x1001), ...u16(1)]), // 0x1000 const -> 0x1001
      typeRecord(LF.ARRAY, [...u32(0x1000), ...u32(0x23), ...u16(8)]), // 0x1001 array of 0x1000: a cycle
      fieldList(member(0x1000, 0, 'x')),
      struct(0x1002, 8, 'Loop'),
    ]);
    expectFormatError(() => pdbToProfile(pdb), /TPI stream: type 0x100[01] .*cyclic type records/);
  });

  it('rejects cyclic LF_INDEX field list continuations', { timeout: 5_000 }, () => {
    const pdb = withTypes([
      fieldList(member(0x74, 0, 'a'), [...u16(LF.INDEX), ...u16(0), ...u32(0x1000)]),
      struct(0x1000, 4, 'Cont'),
    ]);
    expectFormatError(() => pdbToProfile(pdb), /field list 0x1000 has cyclic LF_INDEX continuations/);
  });

  it('rejects huge or inconsistent type records', () => {
    expectFormatError(() => pdbToProfile(withTypes([[0xff, 0xff, 0x05, 0x15]])), /TPI stream: type record 0x1000 has invalid length 65535/);
    expectFormatError(() => pdbToProfile(withTypes([struct(0, 4, 'A')], { recordBytes: 0x7fffffff })), /TPI stream: declares 2147483647 bytes of type records/);
    expectFormatError(() => pdbToProfile(withTypes([struct(0, 4, 'A')], { count: 0x1000000 })), /TPI stream: invalid type index range/);
    expectFormatError(() => pdbToProfile(withTypes([fieldList(member(0x5000, 0, 'x')), struct(0x1000, 4, 'A')])), /reference to type 0x5000 beyond the last record/);
    expectFormatError(() => pdbToProfile(withTypes([fieldList([...u16(0x1599), 0, 0]), struct(0x1000, 4, 'A')])), /field list 0x1000: unknown member leaf 0x1599/);
    // A member whose name runs off the record end is still bounded by the record.
    expectFormatError(() => pdbToProfile(withTypes([typeRecord(LF.FIELDLIST, [...u16(LF.MEMBER), ...u16(3), ...u32(0x74)]), struct(0x1000, 4, 'A')])), /field list 0x1000: truncated/);
  });

  it('rejects corrupt DBI and symbol record streams naming the stream', () => {
    const dbi = MsfFile.open(REAL).stream(3, 'DBI').slice();
    expectFormatError(() => pdbToProfile(replaceStreams(REAL, new Map([[3, dbi.slice(0, 10)]]))), /DBI stream: truncated/);
    new DataView(dbi.buffer).setInt32(24, 0x7fffffff, true); // module info size
    expectFormatError(() => pdbToProfile(replaceStreams(REAL, new Map([[3, dbi]]))), /DBI stream: substream size/);
    const symStream = new DataView(dbi.buffer).getUint16(20, true);
    expectFormatError(() => pdbToProfile(replaceStreams(REAL, new Map([[symStream, Uint8Array.from([0xf0, 0xff, 0x0e, 0x11, 0, 0, 0, 0])]]))), new RegExp(`symbol record stream ${symStream}: record at offset 0 has invalid length`));
    expectFormatError(() => parsePdbIdentity(replaceStreams(REAL, new Map([[1, new Uint8Array(12)]]))), /PDB info stream: truncated/);
  });
});
