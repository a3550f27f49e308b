/**
 * The in-memory header of ntoskrnl.exe as the loader leaves it: DOS header, PE32+ NT headers,
 * section table and a CodeView debug directory whose `RSDS` record names the PDB (GUID+age+name).
 * Layouts from the Microsoft PE/COFF specification (IMAGE_DOS_HEADER, IMAGE_FILE_HEADER,
 * IMAGE_OPTIONAL_HEADER64, IMAGE_SECTION_HEADER, IMAGE_DEBUG_DIRECTORY, CV_INFO_PDB70).
 */
export interface PeSection {
  readonly name: string;
  readonly rva: number;
  readonly size: number;
  readonly characteristics: number;
}

export interface PeHeaderSpec {
  readonly imageBase: bigint;
  readonly sizeOfImage: number;
  readonly entryPointRva: number;
  readonly timeDateStamp: number;
  readonly checkSum: number;
  readonly osMajor: number;
  readonly osMinor: number;
  readonly sections: readonly PeSection[];
  /** Where the IMAGE_DEBUG_DIRECTORY entry goes (the RSDS record follows it). */
  readonly debugDirRva: number;
  readonly pdbGuid: string; // 32 hex digits as in a symbol-server path
  readonly pdbAge: number;
  readonly pdbName: string;
}

export const IMAGE_FILE_MACHINE_AMD64 = 0x8664;
export const IMAGE_DEBUG_TYPE_CODEVIEW = 2;
const E_LFANEW = 0x108;
const DEBUG_DIR_SIZE = 28;

/** CV_INFO_PDB70: 'RSDS', GUID (Data1/2/3 little-endian, Data4 as bytes), Age, name NUL-terminated. */
export function rsdsRecord(guidHex: string, age: number, pdbName: string): Uint8Array {
  if (!/^[0-9a-fA-F]{32}$/.test(guidHex)) throw new RangeError(`bad PDB GUID ${guidHex}`);
  const name = new TextEncoder().encode(pdbName);
  const out = new Uint8Array(24 + name.length + 1);
  const dv = new DataView(out.buffer);
  out.set([0x52, 0x53, 0x44, 0x53], 0);
  dv.setUint32(4, Number.parseInt(guidHex.slice(0, 8), 16), true);
  dv.setUint16(8, Number.parseInt(guidHex.slice(8, 12), 16), true);
  dv.setUint16(10, Number.parseInt(guidHex.slice(12, 16), 16), true);
  for (let i = 0; i < 8; i++) out[12 + i] = Number.parseInt(guidHex.slice(16 + 2 * i, 18 + 2 * i), 16);
  dv.setUint32(20, age, true);
  out.set(name, 24);
  return out;
}

/** Bytes of the header page (RVA 0..0xfff). */
export function buildPeHeader(spec: PeHeaderSpec): Uint8Array {
  const h = new Uint8Array(0x1000);
  const dv = new DataView(h.buffer);
  // IMAGE_DOS_HEADER
  h.set([0x4d, 0x5a], 0); // "MZ"
  dv.setUint16(0x02, 0x90, true);
  dv.setUint16(0x04, 3, true);
  dv.setUint16(0x08, 4, true);
  dv.setUint16(0x0c, 0xffff, true);
  dv.setUint16(0x10, 0xb8, true);
  dv.setUint16(0x18, 0x40, true);
  dv.setUint32(0x3c, E_LFANEW, true);
  // The classic DOS stub: print the message and exit.
  h.set([0x0e, 0x1f, 0xba, 0x0e, 0x00, 0xb4, 0x09, 0xcd, 0x21, 0xb8, 0x01, 0x4c, 0xcd, 0x21], 0x40);
  h.set(new TextEncoder().encode('This program cannot be run in DOS mode.\r\r\n$'), 0x4e);

  // "PE\0\0" + IMAGE_FILE_HEADER
  let p = E_LFANEW;
  h.set([0x50, 0x45, 0, 0], p);
  p += 4;
  const optSize = 112 + 16 * 8;
  dv.setUint16(p, IMAGE_FILE_MACHINE_AMD64, true);
  dv.setUint16(p + 2, spec.sections.length, true);
  dv.setUint32(p + 4, spec.timeDateStamp >>> 0, true);
  dv.setUint16(p + 16, optSize, true);
  dv.setUint16(p + 18, 0x0022, true); // EXECUTABLE_IMAGE | LARGE_ADDRESS_AWARE
  p += 20;

  // IMAGE_OPTIONAL_HEADER64
  const o = p;
  const code = spec.sections.filter((s) => s.characteristics & 0x20);
  const data = spec.sections.filter((s) => s.characteristics & 0x40);
  const sum = (xs: readonly PeSection[]) => xs.reduce((a, s) => a + alignUp(s.size, 0x200), 0);
  dv.setUint16(o, 0x20b, true); // PE32+
  h[o + 2] = 14;
  h[o + 3] = 20;
  dv.setUint32(o + 4, sum(code), true);
  dv.setUint32(o + 8, sum(data), true);
  dv.setUint32(o + 16, spec.entryPointRva, true);
  dv.setUint32(o + 20, code[0]?.rva ?? 0x1000, true);
  dv.setBigUint64(o + 24, spec.imageBase, true);
  dv.setUint32(o + 32, 0x1000, true); // SectionAlignment
  dv.setUint32(o + 36, 0x200, true); // FileAlignment
  dv.setUint16(o + 40, spec.osMajor, true);
  dv.setUint16(o + 42, spec.osMinor, true);
  dv.setUint16(o + 44, spec.osMajor, true);
  dv.setUint16(o + 46, spec.osMinor, true);
  dv.setUint16(o + 48, spec.osMajor, true);
  dv.setUint16(o + 50, spec.osMinor, true);
  dv.setUint32(o + 56, spec.sizeOfImage, true);
  dv.setUint32(o + 60, 0x600, true); // SizeOfHeaders
  dv.setUint32(o + 64, spec.checkSum >>> 0, true);
  dv.setUint16(o + 68, 1, true); // IMAGE_SUBSYSTEM_NATIVE
  dv.setUint16(o + 70, 0x4160, true); // GUARD_CF | NX_COMPAT | DYNAMIC_BASE | HIGH_ENTROPY_VA
  dv.setBigUint64(o + 72, 0x80000n, true);
  dv.setBigUint64(o + 80, 0x1000n, true);
  dv.setBigUint64(o + 88, 0x100000n, true);
  dv.setBigUint64(o + 96, 0x1000n, true);
  dv.setUint32(o + 108, 16, true);
  // DataDirectory[6] = IMAGE_DIRECTORY_ENTRY_DEBUG
  dv.setUint32(o + 112 + 6 * 8, spec.debugDirRva, true);
  dv.setUint32(o + 112 + 6 * 8 + 4, DEBUG_DIR_SIZE, true);
  p = o + optSize;

  // IMAGE_SECTION_HEADER[]
  let rawPtr = 0x600;
  for (const s of spec.sections) {
    h.set(new TextEncoder().encode(s.name.slice(0, 8)), p);
    dv.setUint32(p + 8, s.size, true);
    dv.setUint32(p + 12, s.rva, true);
    const raw = alignUp(s.size, 0x200);
    dv.setUint32(p + 16, raw, true);
    dv.setUint32(p + 20, rawPtr, true);
    dv.setUint32(p + 36, s.characteristics >>> 0, true);
    rawPtr += raw;
    p += 40;
  }
  if (p > 0x600) throw new RangeError('PE headers overflow SizeOfHeaders');
  return h;
}

/** IMAGE_DEBUG_DIRECTORY (CODEVIEW) followed by the RSDS record, to be placed at spec.debugDirRva. */
export function buildDebugDirectory(spec: PeHeaderSpec, fileOffsetOfRva: (rva: number) => number): Uint8Array {
  const rsds = rsdsRecord(spec.pdbGuid, spec.pdbAge, spec.pdbName);
  const out = new Uint8Array(DEBUG_DIR_SIZE + rsds.length);
  const dv = new DataView(out.buffer);
  const rsdsRva = spec.debugDirRva + DEBUG_DIR_SIZE;
  dv.setUint32(4, spec.timeDateStamp >>> 0, true);
  dv.setUint32(12, IMAGE_DEBUG_TYPE_CODEVIEW, true);
  dv.setUint32(16, rsds.length, true);
  dv.setUint32(20, rsdsRva, true);
  dv.setUint32(24, fileOffsetOfRva(rsdsRva), true);
  out.set(rsds, DEBUG_DIR_SIZE);
  return out;
}

/** File offset of an RVA given the section layout buildPeHeader writes. */
export function fileOffsetOf(sections: readonly PeSection[], rva: number): number {
  let rawPtr = 0x600;
  for (const s of sections) {
    if (rva >= s.rva && rva < s.rva + s.size) return rawPtr + (rva - s.rva);
    rawPtr += alignUp(s.size, 0x200);
  }
  return rva;
}

export function alignUp(v: number, a: number): number {
  return Math.ceil(v / a) * a;
}
