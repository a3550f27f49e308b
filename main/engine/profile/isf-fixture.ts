/** Test fixture shared by the profile tests (ISF importer, store, CLI). */

/** A minimal but structurally real ISF document (Volatility 3 schema 6.x). */
export function tinyIsf(): Record<string, unknown> {
  return {
    metadata: { format: '6.1.0', windows: { pdb: { GUID: '00112233445566778899aabbccddeeff', age: 2, database: 'ntkrnlmp.pdb', machine_type: 34404 } } },
    base_types: {
      'unsigned char': { kind: 'char', signed: false, size: 1, endian: 'little' },
      'unsigned long': { kind: 'int', signed: false, size: 4, endian: 'little' },
      'unsigned long long': { kind: 'int', signed: false, size: 8, endian: 'little' },
      'unsigned short': { kind: 'int', signed: false, size: 2, endian: 'little' },
      wchar: { kind: 'int', signed: true, size: 2, endian: 'little' },
      void: { kind: 'void', signed: true, size: 0, endian: 'little' },
      pointer: { kind: 'int', signed: false, size: 8, endian: 'little' },
    },
    user_types: {
      _LIST_ENTRY: { kind: 'struct', size: 16, fields: {
        Flink: { offset: 0, type: { kind: 'pointer', subtype: { kind: 'struct', name: '_LIST_ENTRY' } } },
        Blink: { offset: 8, type: { kind: 'pointer', subtype: { kind: 'struct', name: '_LIST_ENTRY' } } },
      } },
      _UNICODE_STRING: { kind: 'struct', size: 16, fields: {
        Length: { offset: 0, type: { kind: 'base', name: 'unsigned short' } },
        MaximumLength: { offset: 2, type: { kind: 'base', name: 'unsigned short' } },
        Buffer: { offset: 8, type: { kind: 'pointer', subtype: { kind: 'base', name: 'wchar' } } },
      } },
      _KPROCESS: { kind: 'struct', size: 0x438, fields: {
        DirectoryTableBase: { offset: 0x28, type: { kind: 'base', name: 'unsigned long long' } },
        State: { offset: 0x30, type: { kind: 'enum', name: '_KPROCESS_STATE' } },
      } },
      _EPROCESS: { kind: 'struct', size: 0xa40, fields: {
        Pcb: { offset: 0, type: { kind: 'struct', name: '_KPROCESS' } },
        ActiveProcessLinks: { offset: 0x448, type: { kind: 'struct', name: '_LIST_ENTRY' } },
        ImageFileName: { offset: 0x5a8, type: { kind: 'array', count: 15, subtype: { kind: 'base', name: 'unsigned char' } } },
        Flags3: { offset: 0x460, type: { kind: 'bitfield', bit_position: 1, bit_length: 3, type: { kind: 'base', name: 'unsigned long' } } },
        Job: { offset: 0x500, type: { kind: 'pointer', subtype: { kind: 'struct', name: '_EJOB' } } },
        Callback: { offset: 0x508, type: { kind: 'pointer', subtype: { kind: 'function' } } },
      } },
      _U: { kind: 'union', size: 8, fields: { A: { offset: 0, type: { kind: 'base', name: 'unsigned long long' } } } },
    },
    enums: { _KPROCESS_STATE: { base: 'long', size: 4, constants: { ProcessInMemory: 0, ProcessOutOfMemory: 1 } } },
    symbols: {
      PsActiveProcessHead: { address: 0xc1f970 },
      NtBuildNumber: { address: 0xc11e90 },
      SomeTypeOnly: { type: { kind: 'base', name: 'unsigned long' } },
    },
  };
}
