/** Test fixture shared by the Rekall importer tests (unit and fuzz). */

/**
 * A Rekall profile as Rekall's `parse_pdb` (rekall-core/rekall/plugins/tools/mspdb.py) writes it for
 * ntkrnlmp.pdb: vtypes [target, args], arrays post-processed to counts (one left with a byte size, as
 * happens when the element size is unknown at export time), $ENUMS keyed by value, RVAs in
 * $CONSTANTS (data) and $FUNCTIONS (code). The seed's GUID 512C583E…A09 age 1 carries the WinDbg-known
 * PsActiveProcessHead RVA 0x438A80 (shared/data/README.md).
 */
export function rekallProfile(): Record<string, unknown> {
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
