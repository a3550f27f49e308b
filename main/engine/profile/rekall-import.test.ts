import { gzip } from 'pako';
import { describe, expect, it } from 'vitest';
import { MemScopeError } from '../errors.js';
import { importProfileBytes } from './import.js';
import { Profile } from './profile.js';
import { rekallToProfile } from './rekall-import.js';
import { rekallProfile } from './rekall-fixture.js';

describe('Rekall import', () => {
  it('converts structs, bitfields, arrays (count and byte size), enums, pointers and RVAs', () => {
    const p = new Profile(rekallToProfile(rekallProfile(), 'nt.json'));
    expect(p.pdb).toEqual({ name: 'ntkrnlmp.pdb', guid: '512C583E636270A8A26A461F4B383A09', age: 1 });
    expect(p.data.pointerSize).toBe(8);
    expect(p.symbol('PsActiveProcessHead')).toBe(0x438a80);
    expect(p.symbol('NtCreateFile')).toBe(0x5c8310);
    expect(p.sizeOf('_EPROCESS')).toBe(0x850);
    expect(p.offsetOf('_EPROCESS', 'ActiveProcessLinks')).toBe(0x2e8);
    expect(p.field('_EPROCESS', 'Pcb').type).toEqual({ kind: 'struct', name: '_KPROCESS' });
    expect(p.field('_EPROCESS', 'ImageFileName').type).toEqual({ kind: 'array', count: 15, subtype: { kind: 'base', name: 'unsigned char' } });
    expect(p.field('_KPROCESS', 'IdealProcessor').type).toEqual({ kind: 'array', count: 32, subtype: { kind: 'base', name: 'unsigned short' } });
    expect(p.sizeOfRef(p.field('_KPROCESS', 'IdealProcessor').type)).toBe(64);
    expect(p.field('_EPROCESS', 'Flags2').type).toEqual({ kind: 'bitfield', bitPosition: 3, bitLength: 2, type: { kind: 'base', name: 'unsigned long' } });
    expect(p.field('_EPROCESS', 'UniqueProcessId').type).toEqual({ kind: 'pointer', subtype: { kind: 'base', name: 'void' } });
    expect(p.field('_EPROCESS', 'WnfContext').type).toEqual({ kind: 'pointer', subtype: { kind: 'function' } });
    expect(p.field('_EPROCESS', 'SeAuditProcessCreationInfo').type).toEqual({
      kind: 'array', count: 1, subtype: { kind: 'pointer', subtype: { kind: 'struct', name: '_OBJECT_NAME_INFORMATION' } },
    });
    expect(p.field('_UNICODE_STRING', 'Buffer').type).toEqual({ kind: 'pointer', subtype: { kind: 'base', name: 'wchar' } });
    expect(p.field('_KPROCESS', 'State').type).toEqual({ kind: 'enum', name: '_KPROCESS_STATE' });
    expect(p.enumDef('_KPROCESS_STATE').constants).toEqual({ ProcessInMemory: 0, ProcessOutOfMemory: 1, ProcessInTransition: 2 });
  });

  it('is recognised by shape inside a gzip file', async () => {
    const bytes = gzip(new TextEncoder().encode(JSON.stringify(rekallProfile())));
    const { data, kind } = await importProfileBytes(bytes, 'ntkrnlmp.json.gz');
    expect(kind).toBe('rekall');
    expect(data.symbols['PsActiveProcessHead']).toBe(4426368);
  });

  it('names the missing piece', () => {
    const noGuid = rekallProfile();
    delete (noGuid['$METADATA'] as Record<string, unknown>)['GUID_AGE'];
    expect(() => rekallToProfile(noGuid, 'r.json')).toThrow(new MemScopeError('format', 'r.json: Rekall $METADATA.GUID_AGE is missing'));
    const dangling = rekallProfile();
    delete (dangling['$STRUCTS'] as Record<string, unknown>)['_LIST_ENTRY'];
    expect(() => rekallToProfile(dangling, 'r.json')).toThrow('r.json: type _KPROCESS field ProcessListEntry refers to missing type _LIST_ENTRY');
    const badBits = rekallProfile();
    ((badBits['$STRUCTS'] as Record<string, [number, Record<string, unknown>]>)['_EPROCESS'] as [number, Record<string, unknown>])[1]['Flags2'] = [0x300, ['BitField', { start_bit: 5, end_bit: 5, target: 'unsigned long' }]];
    expect(() => rekallToProfile(badBits, 'r.json')).toThrow('r.json: Rekall $STRUCTS._EPROCESS.Flags2[1]: end_bit 5 is not after start_bit 5');
  });
});
