import type { ProfileData, TypeRef } from './model.js';

/**
 * The kernel structures bundled profiles keep (issue 3 part 3): processes, threads, pool, object
 * headers, handle tables, sessions, KPCR/KPRCB, PEB/process parameters, loaded modules, tokens, VADs
 * and the small records they embed. A name absent from a build is skipped (e.g. _KDDEBUGGER_DATA64 is
 * not in every PDB). Everything these embed by value is kept too (see keptTypeClosure); pointer targets
 * outside the closure stay names only.
 */
export const BUNDLED_ROOT_TYPES: readonly string[] = [
  // processes and threads
  '_EPROCESS', '_KPROCESS', '_ETHREAD', '_KTHREAD', '_CLIENT_ID', '_KAPC_STATE', '_KAPC', '_DISPATCHER_HEADER',
  '_EX_FAST_REF', '_EX_PUSH_LOCK', '_EX_RUNDOWN_REF', '_EWOW64PROCESS', '_KTIMER', '_KEVENT', '_KMUTANT', '_KSEMAPHORE',
  '_KDPC', '_KWAIT_BLOCK', '_KTRAP_FRAME', '_KEXCEPTION_FRAME', '_TEB', '_TEB32', '_NT_TIB',
  // user-mode process environment
  '_PEB', '_PEB32', '_PEB_LDR_DATA', '_LDR_DATA_TABLE_ENTRY', '_RTL_USER_PROCESS_PARAMETERS', '_CURDIR',
  '_RTL_DRIVE_LETTER_CURDIR', '_STRING', '_STRING32', '_STRING64', '_UNICODE_STRING', '_LIST_ENTRY', '_LIST_ENTRY32',
  '_LIST_ENTRY64', '_SINGLE_LIST_ENTRY', '_LARGE_INTEGER', '_ULARGE_INTEGER', '_GUID',
  // loaded kernel modules and drivers
  '_KLDR_DATA_TABLE_ENTRY', '_DRIVER_OBJECT', '_DEVICE_OBJECT', '_DRIVER_EXTENSION', '_FILE_OBJECT', '_SECTION_OBJECT_POINTERS',
  // objects, types, directories, handles
  '_OBJECT_HEADER', '_OBJECT_HEADER_CREATOR_INFO', '_OBJECT_HEADER_NAME_INFO', '_OBJECT_HEADER_HANDLE_INFO',
  '_OBJECT_HEADER_QUOTA_INFO', '_OBJECT_HEADER_PROCESS_INFO', '_OBJECT_HEADER_AUDIT_INFO', '_OBJECT_HEADER_EXTENDED_INFO',
  '_OBJECT_HEADER_PADDING_INFO', '_OBJECT_TYPE', '_OBJECT_TYPE_INITIALIZER', '_OBJECT_DIRECTORY', '_OBJECT_DIRECTORY_ENTRY',
  '_OBJECT_SYMBOLIC_LINK', '_HANDLE_TABLE', '_HANDLE_TABLE_ENTRY', '_HANDLE_TABLE_ENTRY_INFO', '_HANDLE_TABLE_FREE_LIST',
  // pool
  '_POOL_HEADER', '_POOL_TRACKER_BIG_PAGES', '_POOL_DESCRIPTOR', '_POOL_TRACKER_TABLE',
  // memory manager
  '_MMPTE', '_MMPTE_HARDWARE', '_MMPTE_PROTOTYPE', '_MMPTE_SOFTWARE', '_MMPTE_TRANSITION', '_MMPTE_SUBSECTION',
  '_MMPTE_LIST', '_MMPTE_TIMESTAMP', '_MMPFN', '_MMVAD', '_MMVAD_SHORT', '_MMVAD_FLAGS', '_MMVAD_FLAGS1', '_RTL_AVL_TREE',
  '_RTL_BALANCED_NODE', '_MM_AVL_TABLE', '_MMADDRESS_NODE', '_CONTROL_AREA', '_SEGMENT', '_SUBSECTION', '_SECTION',
  '_MMSUPPORT', '_PHYSICAL_MEMORY_DESCRIPTOR', '_PHYSICAL_MEMORY_RUN', '_MM_SESSION_SPACE',
  // processor state
  '_KPCR', '_KPRCB', '_KGDTENTRY64', '_KIDTENTRY64', '_KTSS64', '_KSPECIAL_REGISTERS', '_KPROCESSOR_STATE', '_CONTEXT',
  '_PROCESSOR_START_BLOCK', '_KDDEBUGGER_DATA64', '_DBGKD_DEBUG_DATA_HEADER64', '_KUSER_SHARED_DATA',
  // security
  '_TOKEN', '_SEP_TOKEN_PRIVILEGES', '_SID', '_SID_AND_ATTRIBUTES', '_LUID', '_LUID_AND_ATTRIBUTES',
  // PE headers (in-memory module parsing)
  '_IMAGE_DOS_HEADER', '_IMAGE_NT_HEADERS64', '_IMAGE_FILE_HEADER', '_IMAGE_OPTIONAL_HEADER64', '_IMAGE_DATA_DIRECTORY',
  '_IMAGE_SECTION_HEADER', '_IMAGE_EXPORT_DIRECTORY', '_IMAGE_DEBUG_DIRECTORY',
];

/** Root list plus every struct embedded by value (fields, arrays, bitfields), transitively. */
export function keptTypeClosure(data: ProfileData, roots: readonly string[] = BUNDLED_ROOT_TYPES): { types: Set<string>; enums: Set<string> } {
  const types = new Set<string>();
  const enums = new Set<string>();
  const queue = roots.filter((r) => Object.hasOwn(data.types, r));
  const visit = (ref: TypeRef): void => {
    switch (ref.kind) {
      case 'struct':
        if (!types.has(ref.name) && Object.hasOwn(data.types, ref.name)) queue.push(ref.name);
        return;
      case 'enum':
        if (Object.hasOwn(data.enums, ref.name)) enums.add(ref.name);
        return;
      case 'array': return visit(ref.subtype);
      case 'bitfield': return visit(ref.type);
      case 'pointer':
        // enums behind pointers are tiny and make pointer fields renderable; structs stay names only
        if (ref.subtype.kind === 'enum') visit(ref.subtype);
        return;
      default:
        return;
    }
  };
  while (queue.length > 0) {
    const name = queue.pop() as string;
    if (types.has(name)) continue;
    types.add(name);
    for (const f of Object.values(data.types[name]?.fields ?? {})) visit(f.type);
  }
  return { types, enums };
}
