/**
 * ELF64 core writer shaped like QEMU `dump-guest-memory` output (qemu/dump/dump.c): an ET_CORE
 * EM_X86_64 little-endian header, one PT_NOTE holding per vCPU an NT_PRSTATUS note named "CORE"
 * (zeroed) and a "QEMU" note with QEMUCPUState (version 1, size 0x1b8, cr[3] at 0x1a0; everything
 * else zero — see qemu target/i386/arch_dump.c), then one PT_LOAD per run with p_paddr = the guest physical address, p_filesz == p_memsz, p_vaddr 0.
 * With 0xffff or more program headers, e_phnum holds PN_XNUM and section header 0's sh_info the
 * real count (gABI "Extended Program Header Numbering"), as QEMU does.
 *
 * Written from the gABI field offsets (Elf64_Ehdr 64 bytes, Elf64_Phdr 56, Elf64_Shdr 64),
 * independently of the engine's reader.
 */
import * as fs from 'node:fs';
import { DEFAULT_CHUNK, normalizeRuns, streamRun, writeAll, type MemoryContent, type MemoryRun } from './content.js';

export interface ElfWriteOptions {
  /** Order of the PT_LOAD headers in the table (file data stays ascending). Default 'ascending'. */
  readonly segmentOrder?: 'ascending' | 'descending';
  readonly chunkBytes?: number;
  /** One entry per vCPU (default one CPU with CR3 0, i.e. no DTB hint). */
  readonly cpus?: readonly { readonly cr3: bigint }[];
}

const PN_XNUM = 0xffff;
const NT_PRSTATUS = 1;
const PRSTATUS_SIZE = 336; // sizeof(struct elf_prstatus) on x86-64 Linux

const QEMU_CPU_STATE_SIZE = 0x1b8;

function note(nameText: string, type: number, desc: Buffer): Buffer {
  const name = Buffer.from(nameText + '\0', 'latin1');
  const namePadded = Math.ceil(name.length / 4) * 4;
  const b = Buffer.alloc(12 + namePadded + Math.ceil(desc.length / 4) * 4);
  b.writeUInt32LE(name.length, 0);
  b.writeUInt32LE(desc.length, 4);
  b.writeUInt32LE(type, 8);
  name.copy(b, 12);
  desc.copy(b, 12 + namePadded);
  return b;
}

function cpuNotes(cpus: readonly { readonly cr3: bigint }[]): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < cpus.length; i++) parts.push(note('CORE', NT_PRSTATUS, Buffer.alloc(PRSTATUS_SIZE)));
  for (const cpu of cpus) {
    const state = Buffer.alloc(QEMU_CPU_STATE_SIZE);
    state.writeUInt32LE(1, 0); // version
    state.writeUInt32LE(QEMU_CPU_STATE_SIZE, 4);
    state.writeBigUInt64LE(cpu.cr3, 0x1a0);
    parts.push(note('QEMU', 0, state));
  }
  return Buffer.concat(parts);
}

/** Where an ELF core's pieces go: header bytes at offsets, each run's data at its file offset. */
export interface FileLayout {
  /** Header pieces (ELF header, program headers, notes, section header), ascending, before any run data. */
  readonly headers: readonly { readonly offset: number; readonly bytes: Uint8Array }[];
  /** The normalized runs, and each one's file offset (ascending). */
  readonly runs: readonly MemoryRun[];
  readonly runOffsets: readonly number[];
  readonly fileSize: number;
}

/** The layout writeElfCore writes (acquisition streams the same layout, hashing as it goes). */
export function elfLayout(content: { readonly runs: readonly MemoryRun[] }, options: ElfWriteOptions = {}): FileLayout {
  const runs = normalizeRuns(content.runs);
  if (runs.length === 0) throw new RangeError('writeElfCore: no memory to write');
  const phnum = runs.length + 1;
  const extended = phnum >= PN_XNUM;
  const phoff = 64;
  const noteOff = phoff + phnum * 56;
  const noteBytes = cpuNotes(options.cpus ?? [{ cr3: 0n }]);
  const shoff = extended ? noteOff + noteBytes.length : 0;
  const headersEnd = shoff ? shoff + 64 : noteOff + noteBytes.length;
  const dataStart = Math.ceil(headersEnd / 4096) * 4096;

  const eh = Buffer.alloc(64);
  eh.set([0x7f, 0x45, 0x4c, 0x46, 2 /* ELFCLASS64 */, 1 /* ELFDATA2LSB */, 1 /* EV_CURRENT */], 0);
  eh.writeUInt16LE(4, 0x10); // ET_CORE
  eh.writeUInt16LE(62, 0x12); // EM_X86_64
  eh.writeUInt32LE(1, 0x14); // e_version
  eh.writeBigUInt64LE(BigInt(phoff), 0x20);
  eh.writeBigUInt64LE(BigInt(shoff), 0x28);
  eh.writeUInt16LE(64, 0x34); // e_ehsize
  eh.writeUInt16LE(56, 0x36); // e_phentsize
  eh.writeUInt16LE(extended ? PN_XNUM : phnum, 0x38);
  eh.writeUInt16LE(extended ? 64 : 0, 0x3a); // e_shentsize
  eh.writeUInt16LE(extended ? 1 : 0, 0x3c); // e_shnum

  const ph = Buffer.alloc(phnum * 56);
  ph.writeUInt32LE(4, 0); // PT_NOTE
  ph.writeBigUInt64LE(BigInt(noteOff), 8);
  ph.writeBigUInt64LE(BigInt(noteBytes.length), 0x20);
  ph.writeBigUInt64LE(BigInt(noteBytes.length), 0x28);
  const fileOffsets: number[] = [];
  let off = dataStart;
  for (const r of runs) {
    fileOffsets.push(off);
    off += r.length;
  }
  const order = runs.map((_, i) => i);
  if (options.segmentOrder === 'descending') order.reverse();
  order.forEach((ri, slot) => {
    const r = runs[ri]!;
    const at = (slot + 1) * 56;
    ph.writeUInt32LE(1, at); // PT_LOAD
    ph.writeUInt32LE(7, at + 4); // PF_R|PF_W|PF_X
    ph.writeBigUInt64LE(BigInt(fileOffsets[ri]!), at + 8); // p_offset
    ph.writeBigUInt64LE(0n, at + 0x10); // p_vaddr
    ph.writeBigUInt64LE(BigInt(r.start), at + 0x18); // p_paddr
    ph.writeBigUInt64LE(BigInt(r.length), at + 0x20); // p_filesz
    ph.writeBigUInt64LE(BigInt(r.length), at + 0x28); // p_memsz
  });
  const headers = [{ offset: 0, bytes: eh }, { offset: phoff, bytes: ph }, { offset: noteOff, bytes: noteBytes }];
  if (extended) {
    const sh = Buffer.alloc(64);
    sh.writeUInt32LE(phnum, 0x2c); // sh_info = real e_phnum
    headers.push({ offset: shoff, bytes: sh });
  }
  return { headers, runs, runOffsets: fileOffsets, fileSize: off };
}

export function writeElfCore(path: string, content: MemoryContent, options: ElfWriteOptions = {}): MemoryRun[] {
  const layout = elfLayout(content, options);
  const fd = fs.openSync(path, 'w');
  try {
    for (const h of layout.headers) writeAll(fd, h.bytes, h.offset);
    fs.ftruncateSync(fd, layout.fileSize);
    layout.runs.forEach((r, i) => streamRun(fd, layout.runOffsets[i]!, r, content, options.chunkBytes ?? DEFAULT_CHUNK));
  } finally {
    fs.closeSync(fd);
  }
  return [...layout.runs];
}
