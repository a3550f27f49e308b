import { describe, expect, it } from 'vitest';
import { Profile } from '../profile/profile.js';
import type { ProfileData } from '../profile/model.js';
import { StructView, filetimeToIso } from './struct-view.js';

// A hand-made profile: small enough to reason about byte by byte.
const data: ProfileData = {
  pdb: { name: 'test.pdb', guid: '0'.repeat(32), age: 1 },
  pointerSize: 8,
  baseTypes: {
    'unsigned char': { size: 1, signed: false, kind: 'char' },
    'unsigned short': { size: 2, signed: false, kind: 'int' },
    'unsigned long': { size: 4, signed: false, kind: 'int' },
    'unsigned long long': { size: 8, signed: false, kind: 'int' },
    void: { size: 0, signed: false, kind: 'void' },
    wchar: { size: 2, signed: true, kind: 'int' },
  },
  types: {
    _LIST_ENTRY: { kind: 'struct', size: 16, fields: { Flink: { offset: 0, type: { kind: 'pointer', subtype: { kind: 'struct', name: '_LIST_ENTRY' } } }, Blink: { offset: 8, type: { kind: 'pointer', subtype: { kind: 'struct', name: '_LIST_ENTRY' } } } } },
    _UNICODE_STRING: { kind: 'struct', size: 16, fields: { Length: { offset: 0, type: { kind: 'base', name: 'unsigned short' } }, MaximumLength: { offset: 2, type: { kind: 'base', name: 'unsigned short' } }, Buffer: { offset: 8, type: { kind: 'pointer', subtype: { kind: 'base', name: 'wchar' } } } } },
    _INNER: { kind: 'struct', size: 8, fields: { Dtb: { offset: 0, type: { kind: 'base', name: 'unsigned long long' } } } },
    _T: {
      kind: 'struct', size: 0x60, fields: {
        Inner: { offset: 0, type: { kind: 'struct', name: '_INNER' } },
        Links: { offset: 8, type: { kind: 'struct', name: '_LIST_ENTRY' } },
        Name: { offset: 0x18, type: { kind: 'array', count: 15, subtype: { kind: 'base', name: 'unsigned char' } } },
        Flags: { offset: 0x28, type: { kind: 'bitfield', bitPosition: 3, bitLength: 5, type: { kind: 'base', name: 'unsigned long' } } },
        Time: { offset: 0x30, type: { kind: 'base', name: 'unsigned long long' } },
        Str: { offset: 0x38, type: { kind: 'struct', name: '_UNICODE_STRING' } },
        Ref: { offset: 0x48, type: { kind: 'base', name: 'unsigned long long' } },
        Count: { offset: 0x50, type: { kind: 'base', name: 'unsigned long' } },
      },
    },
  },
  enums: {},
  symbols: {},
};
const profile = new Profile(data);

function bytes(): Uint8Array {
  const b = new Uint8Array(0x60);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, 0x4e312002n, true);
  dv.setBigUint64(8, 0xffffa00000001008n, true);
  dv.setBigUint64(16, 0xffffa00000002008n, true);
  b.set(Buffer.from('LockApp.exe'), 0x18);
  dv.setUint32(0x28, (0b10110 << 3) | 0b111, true);
  dv.setBigUint64(0x30, 132_000_000_000_000_000n, true);
  dv.setUint16(0x38, 14, true);
  dv.setUint16(0x3a, 16, true);
  dv.setBigUint64(0x40, 0x1000n, true);
  dv.setBigUint64(0x48, 0xffffb00012345677n, true);
  dv.setUint32(0x50, 7, true);
  return b;
}

describe('StructView', () => {
  it('reads every field kind by name, with dotted paths into embedded structs', () => {
    const v = StructView.fromBytes(profile, '_T', bytes(), 0x1000n);
    expect(v.u64('Inner.Dtb')).toBe(0x4e312002n);
    expect(v.listEntry('Links')).toEqual({ flink: 0xffffa00000001008n, blink: 0xffffa00000002008n });
    expect(v.cString('Name')).toBe('LockApp.exe');
    expect(v.bitfield('Flags')).toBe(0b10110n);
    expect(v.unicodeString('Str')).toEqual({ length: 14, maximumLength: 16, buffer: 0x1000n });
    expect(v.exFastRef('Ref')).toBe(0xffffb00012345670n);
    expect(v.u32('Count')).toBe(7);
    expect(v.filetime('Time')).toBe('2019-04-17T18:40:00.000Z');
    expect(v.missing).toEqual([]);
    expect(v.resolve('Links.Blink').offset).toBe(16);
  });

  it('names the fields that fall in unreadable bytes and still reads the rest', () => {
    const v = StructView.fromBytes(profile, '_T', bytes(), 0x1000n, [{ offset: 0x30, length: 0x10 }]);
    expect(v.filetime('Time')).toBeNull();
    expect(v.unicodeString('Str')).toBeNull(); // Str straddles the hole's end (0x38..0x48)
    expect(v.u32('Count')).toBe(7);
    expect(v.u64('NoSuchField')).toBeNull();
    expect(v.missing).toEqual(['Time', 'Str', 'NoSuchField']);
    expect(v.complete).toBe(false);
  });

  it('converts FILETIME: 0 and garbage are null, the epoch is exact', () => {
    expect(filetimeToIso(0n)).toBeNull();
    expect(filetimeToIso(116444736000000000n)).toBe('1970-01-01T00:00:00.000Z');
    expect(filetimeToIso(0xffffffffffffffffn)).toBeNull();
  });
});
