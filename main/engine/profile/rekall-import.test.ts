import { gzip } from 'pako';
import { describe, expect, it } from 'vitest';
import { MemScopeError } from '../errors.js';
import { importProfileBytes } from './import.js';
import { Profile } from './profile.js';
import { rekallToProfile } from './rekall-import.js';

/**
 * A Rekall profile as Rekall's `parse_pdb` (rekall-core/rekall/plugins/tools/mspdb.py) writes it for
 * ntkrnlmp.pdb: vtypes [target, args], arrays post-processed to counts (one left with a byte size, as
 * happens when the element size is unknown at export time), $ENUMS keyed by value, RVAs in
 * $CONSTANTS (data) and $FUNCTIONS (code). The seed's GUID 512C583E…A09 age 1 carries the WinDbg-known
 * PsActiveProcessHead RVA 0x438A80 (shared/data/README.md).
 */
function rekallProfile(): Record<string, unknown> {
  return {
    $METADATA: { ProfileClass: 'Ntoskrnl', Type: 'Profile', PDBFile: 'ntkrnlmp.pdb', GUID_AGE: '512C583E636270A8A26A461F4B383A091', arch: 'AMD64', Version: 20000101, Timestamp: '2019-04-05 23:15:40+0000' },
    $STRUCTS: {
      _LIST_ENTRY: [16, {
        Flink: [0, ['Pointer', { target: '_LIST_ENTRY', target_args: {} }]],
        Blink: [8, ['Pointer', { target: '_LIST_ENTRY', target_args: {} }]],
      }],
      _UNICODE_STRING: [16, {
        Length: [0, ['unsigned short', {}]],
        MaximumLength: [2, ['unsigned short', {}]],
        Buffer: [8, ['Pointer', { target: 'UnicodeString' }]],
      }],
      _KPROCESS: [0x2e0, {
        DirectoryTableBase: [0x28, ['unsigned long long', {}]],
        ProcessListEntry: [0x240, ['_LIST_ENTRY', {}]],
        State: [0x260, ['Enumeration', { enum_name: '_KPROCESS_STATE', target: 'long' }]],
        AutoAlignment: [0x264, ['BitField', { start_bit: 0, end_bit: 1, target: 'unsigned long' }]],
        IdealProcessor: [0x270, ['Array', { count: 32, target: 'unsigned short', target_args: {} }]],
      }],
      _EPROCESS: [0x850, {
        Pcb: [0, ['_KPROCESS', {}]],
        UniqueProcessId: [0x2e0, ['Pointer', { target: 'Void' }]],
        ActiveProcessLinks: [0x2e8, ['_LIST_ENTRY', {}]],
        ImageFileName: [0x450, ['Array', { size: 15, target: 'unsigned char', target_args: {} }]],
        Peb: [0x3f8, ['Pointer', { target: '_PEB', target_args: {} }]],
        ExitStatus: [0x654, ['long', {}]],
        Flags2: [0x300, ['BitField', { start_bit: 3, end_bit: 5, target: 'unsigned long', target_args: {} }]],
        WnfContext: [0x7f0, ['Pointer', { target: 'Function', target_args: { args: [] } }]],
        SeAuditProcessCreationInfo: [0x468, ['Array', { count: 1, target: 'Pointer', target_args: { target: '_OBJECT_NAME_INFORMATION' } }]],
      }],
    },
    $ENUMS: { _KPROCESS_STATE: { '0': 'ProcessInMemory', '1': 'ProcessOutOfMemory', '2': 'ProcessInTransition' } },
    $CONSTANTS: { PsActiveProcessHead: 4426368, KdDebuggerDataBlock: 0x3f71e0 },
    $FUNCTIONS: { NtCreateFile: 0x5c8310 },
  };
}

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
