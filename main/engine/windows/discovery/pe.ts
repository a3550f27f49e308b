/**
 * Just enough PE32+ parsing to identify a kernel image in memory: DOS header → NT headers →
 * debug directory → CodeView RSDS record (PDB GUID, age, name). Layout: Microsoft PE/COFF
 * specification ("MS-DOS stub" e_lfanew at 0x3c; "Optional Header Data Directories" debug = index
 * 6; "Debug Directory" 28-byte entries, Type 2 = IMAGE_DEBUG_TYPE_CODEVIEW) and the RSDS layout
 * used by the Microsoft symbol server (signature 'RSDS', GUID, age, UTF-8 zero-terminated path).
 * Every read goes through `read(rva, len)` so the caller decides how the image is mapped; every
 * field that would send us elsewhere is bounds-checked, so a corrupt header is a reason string, not
 * an exception or a huge read.
 */

export type RvaReader = (rva: number, length: number) => Uint8Array | null;

export interface PeInfo {
  readonly machine: number;
  readonly sizeOfImage: number;
  readonly timeDateStamp: number;
  readonly pdb: { readonly name: string; readonly guid: string; readonly age: number } | null;
}

export type PeResult = { readonly ok: true; readonly pe: PeInfo } | { readonly ok: false; readonly reason: string };

/** PDB names ntoskrnl variants carry (uniprocessor/multiprocessor, PAE builds). */
export const KERNEL_PDB_NAMES = ['ntkrnlmp.pdb', 'ntoskrnl.pdb', 'ntkrpamp.pdb', 'ntkrnlpa.pdb'] as const;

export function isKernelPdbName(name: string): boolean {
  const base = name.split(/[\\/]/).pop()!.toLowerCase();
  return (KERNEL_PDB_NAMES as readonly string[]).includes(base);
}

const MAX_IMAGE = 256 * 1024 * 1024;

/** The symbol-server form of a GUID: Data1 (LE u32), Data2, Data3 (LE u16), Data4 (8 bytes as is). */
export function guidToSymbolForm(raw: Uint8Array): string {
  const dv = new DataView(raw.buffer, raw.byteOffset, 16);
  const h = (v: number, w: number) => v.toString(16).padStart(w, '0');
  let s = h(dv.getUint32(0, true), 8) + h(dv.getUint16(4, true), 4) + h(dv.getUint16(6, true), 4);
  for (let i = 8; i < 16; i++) s += h(raw[i]!, 2);
  return s.toUpperCase();
}

export function parsePe(read: RvaReader): PeResult {
  const dos = read(0, 0x40);
  if (!dos) return { ok: false, reason: 'DOS header not readable' };
  if (dos[0] !== 0x4d || dos[1] !== 0x5a) return { ok: false, reason: 'no MZ signature' };
  const lfanew = new DataView(dos.buffer, dos.byteOffset, 0x40).getUint32(0x3c, true);
  if (lfanew < 0x40 || lfanew > 0x1000 - 0x108) return { ok: false, reason: `e_lfanew 0x${lfanew.toString(16)} out of range (corrupt PE header)` };
  const nt = read(lfanew, 0x108);
  if (!nt) return { ok: false, reason: 'NT headers not readable' };
  const dv = new DataView(nt.buffer, nt.byteOffset, nt.length);
  if (dv.getUint32(0, true) !== 0x0000_4550) return { ok: false, reason: 'no PE signature at e_lfanew (corrupt PE header)' };
  const machine = dv.getUint16(4, true);
  const timeDateStamp = dv.getUint32(8, true);
  const optMagic = dv.getUint16(24, true);
  if (optMagic !== 0x20b) return { ok: false, reason: `optional header magic 0x${optMagic.toString(16)} is not PE32+` };
  const sizeOfImage = dv.getUint32(24 + 56, true);
  if (sizeOfImage < 0x1000 || sizeOfImage > MAX_IMAGE) return { ok: false, reason: `SizeOfImage 0x${sizeOfImage.toString(16)} implausible (corrupt PE header)` };
  const numDirs = dv.getUint32(24 + 108, true);
  let pdb: PeInfo['pdb'] = null;
  if (numDirs > 6) {
    const dbgRva = dv.getUint32(24 + 112 + 6 * 8, true);
    const dbgSize = dv.getUint32(24 + 112 + 6 * 8 + 4, true);
    if (dbgRva !== 0 && dbgSize !== 0) {
      if (dbgRva + dbgSize > sizeOfImage || dbgSize > 28 * 32) return { ok: false, reason: 'debug directory outside the image (corrupt PE header)' };
      pdb = readCodeView(read, dbgRva, Math.floor(dbgSize / 28), sizeOfImage);
    }
  }
  return { ok: true, pe: { machine, sizeOfImage, timeDateStamp, pdb } };
}

function readCodeView(read: RvaReader, dirRva: number, count: number, sizeOfImage: number): PeInfo['pdb'] {
  const dir = read(dirRva, count * 28);
  if (!dir) return null;
  const dv = new DataView(dir.buffer, dir.byteOffset, dir.length);
  for (let i = 0; i < count; i++) {
    const o = i * 28;
    if (dv.getUint32(o + 12, true) !== 2) continue; // IMAGE_DEBUG_TYPE_CODEVIEW
    const size = dv.getUint32(o + 16, true);
    const rva = dv.getUint32(o + 20, true);
    if (size < 24 || size > 1024 || rva === 0 || rva + size > sizeOfImage) continue;
    const cv = read(rva, size);
    if (!cv || cv[0] !== 0x52 || cv[1] !== 0x53 || cv[2] !== 0x44 || cv[3] !== 0x53) continue; // 'RSDS'
    const guid = guidToSymbolForm(cv.subarray(4, 20));
    const age = new DataView(cv.buffer, cv.byteOffset + 20, 4).getUint32(0, true);
    let end = 24;
    while (end < cv.length && cv[end] !== 0) end++;
    const path = new TextDecoder().decode(cv.subarray(24, end));
    const name = path.split(/[\\/]/).pop() ?? path;
    return { name, guid, age };
  }
  return null;
}
