/**
 * ELF64 core dumps of a whole guest, as written by QEMU `dump-guest-memory` (and libvirt
 * `virsh dump --memory-only`, which drives the same QEMU code, qemu/dump/dump.c).
 *
 * Layout (System V gABI, "ELF-64 Object File Format" 1.5): Elf64_Ehdr at 0, e_phoff → e_phnum
 * program headers of e_phentsize (56) bytes. Each PT_LOAD maps p_filesz bytes at file p_offset to
 * guest physical address p_paddr (QEMU writes the guest-physical address there; p_vaddr is a
 * virtual address or 0). PT_NOTE segments (CPU state) are skipped. When there are 0xffff or more
 * program headers QEMU stores PN_XNUM (0xffff) in e_phnum and the real count in section header 0's
 * sh_info (gABI "Extended Program Header Numbering").
 *
 * Hints: QEMU writes, per vCPU, an NT_PRSTATUS note named "CORE" and a note named "QEMU" holding
 * QEMUCPUState (qemu/target/i386/arch_dump.c; contrib/elf2dmp/qemu_elf.h): u32 version, u32 size,
 * rax..r15, rip, rflags (to 0x98), ten 24-byte segment caches (to 0x188), cr[5] (cr3 at 0x1a0),
 * kernel_gs_base. The first CPU's CR3 becomes hints.dtb, the CPU count hints.numberOfProcessors.
 *
 * Choice: bytes between p_filesz and p_memsz are reported ABSENT, not zero. The gABI says such
 * bytes are zero for loadable programs, but in a memory dump they are memory that was not captured
 * (QEMU writes p_memsz == p_filesz; a shorter p_filesz means the dump was filtered or cut), and
 * inventing zeros would make page-table walks silently see "not present" instead of "not captured".
 */
import { formatError } from '../errors.js';
import { ImageFile } from './image-file.js';
import type { PhysicalSource, SourceHints } from './physical-source.js';
import { SegmentedSource, type FileSegment } from './segmented.js';

const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const SHDR_SIZE = 64;
const ET_CORE = 4;
const EM_X86_64 = 62;
const PT_LOAD = 1;
const PT_NOTE = 4;
const NT_PRSTATUS = 1;
const QEMU_CR3_AT = 0x1a0;
/** Notes are CPU state: a few KiB per vCPU. Larger PT_NOTE segments are not read for hints. */
const MAX_NOTES = 16 * 1024 * 1024;
const PN_XNUM = 0xffff;
/** Far above any real guest (QEMU writes one PT_LOAD per RAM block piece: tens, not millions). */
const MAX_PHNUM = 1 << 20;
/** Program headers are read in batches so an absurd count never becomes one huge buffer. */
const PHDR_BATCH = 4096;
/** x64 physical addresses have at most 52 bits (Intel SDM vol. 3A, 4.1.4). */
const MAX_PHYS = 2 ** 52;

const h = (v: number | bigint): string => '0x' + v.toString(16);

function u64(buf: Buffer, at: number, path: string, field: string): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw formatError(path, `ELF ${field} ${h(v)} is out of range`);
  return Number(v);
}

/** Validate the ELF header and program headers of an open file and serve its PT_LOAD segments. */
export function elfCoreFromFile(file: ImageFile): PhysicalSource {
  try {
    const { segments, hints } = parseElfCore(file);
    return new SegmentedSource('elf-core', file, segments, hints);
  } catch (err) {
    file.close();
    throw err;
  }
}

export function openElfCore(path: string): PhysicalSource {
  return elfCoreFromFile(ImageFile.open(path));
}

function parseElfCore(file: ImageFile): { segments: FileSegment[]; hints: SourceHints } {
  const path = file.path;
  const eh = file.readAt(0, EHDR_SIZE);
  if (eh.length < 4 || eh[0] !== 0x7f || eh[1] !== 0x45 || eh[2] !== 0x4c || eh[3] !== 0x46) {
    throw formatError(path, 'not an ELF file (bad e_ident magic)');
  }
  if (eh.length < EHDR_SIZE) throw formatError(path, `truncated ELF header (${eh.length} of ${EHDR_SIZE} bytes)`);
  if (eh[4] !== 2) throw formatError(path, `ELF class ${eh[4]} is not ELFCLASS64; only 64-bit ELF cores are supported`);
  if (eh[5] !== 1) throw formatError(path, `ELF data encoding ${eh[5]} is not little-endian (ELFDATA2LSB)`);
  const type = eh.readUInt16LE(0x10);
  if (type !== ET_CORE) throw formatError(path, `ELF type ${type} is not ET_CORE (4); not a memory dump`);
  const machine = eh.readUInt16LE(0x12);
  if (machine !== EM_X86_64) throw formatError(path, `ELF machine ${machine} is not x86-64 (62)`);
  const phoff = u64(eh, 0x20, path, 'e_phoff');
  const shoff = u64(eh, 0x28, path, 'e_shoff');
  const phentsize = eh.readUInt16LE(0x36);
  let phnum = eh.readUInt16LE(0x38);
  if (phentsize !== PHDR_SIZE) throw formatError(path, `ELF e_phentsize ${phentsize} is not ${PHDR_SIZE}`);

  if (phnum === PN_XNUM) {
    if (shoff === 0 || shoff + SHDR_SIZE > file.size) {
      throw formatError(path, `ELF e_phnum is PN_XNUM but section header 0 at ${h(shoff)} is outside the file`);
    }
    phnum = file.readAt(shoff, SHDR_SIZE).readUInt32LE(0x2c);
  }
  if (phnum === 0) throw formatError(path, 'ELF core has no program headers');
  if (phnum > MAX_PHNUM) throw formatError(path, `ELF program header count ${phnum} is absurd (limit ${MAX_PHNUM})`);
  if (phoff + phnum * PHDR_SIZE > file.size) {
    throw formatError(path, `ELF program header table (${phnum} entries at ${h(phoff)}) extends past the end of the file (${h(file.size)} bytes)`);
  }

  const segments: (FileSegment & { index: number })[] = [];
  const notes: { offset: number; size: number }[] = [];
  for (let first = 0; first < phnum; first += PHDR_BATCH) {
    const count = Math.min(PHDR_BATCH, phnum - first);
    const table = file.readAt(phoff + first * PHDR_SIZE, count * PHDR_SIZE);
    for (let k = 0; k < count; k++) {
      const at = k * PHDR_SIZE;
      const ptype = table.readUInt32LE(at);
      if (ptype === PT_NOTE) notes.push({ offset: u64(table, at + 0x08, path, 'PT_NOTE p_offset'), size: u64(table, at + 0x20, path, 'PT_NOTE p_filesz') });
      if (ptype !== PT_LOAD) continue;
      const index = first + k;
      const offset = u64(table, at + 0x08, path, `PT_LOAD #${index} p_offset`);
      const paddr = u64(table, at + 0x18, path, `PT_LOAD #${index} p_paddr`);
      const filesz = u64(table, at + 0x20, path, `PT_LOAD #${index} p_filesz`);
      const memsz = u64(table, at + 0x28, path, `PT_LOAD #${index} p_memsz`);
      if (filesz > memsz) throw formatError(path, `PT_LOAD #${index} (PA ${h(paddr)}) has p_filesz ${h(filesz)} larger than p_memsz ${h(memsz)}`);
      if (filesz === 0) continue; // nothing captured: absent
      if (paddr + filesz > MAX_PHYS) throw formatError(path, `PT_LOAD #${index} (PA ${h(paddr)}, ${h(filesz)} bytes) lies beyond the 52-bit physical address space`);
      if (offset + filesz > file.size) {
        throw formatError(path, `PT_LOAD #${index} (PA ${h(paddr)}, ${h(filesz)} bytes at file offset ${h(offset)}) extends past the end of the file (${h(file.size)} bytes); the dump is truncated`);
      }
      segments.push({ start: paddr, length: filesz, fileOffset: offset, index });
    }
  }
  if (segments.length === 0) throw formatError(path, 'ELF core has no PT_LOAD segment with data');

  segments.sort((a, b) => a.start - b.start);
  for (let i = 1; i < segments.length; i++) {
    const prev = segments[i - 1]!;
    const cur = segments[i]!;
    if (cur.start < prev.start + prev.length) {
      throw formatError(path, `PT_LOAD #${prev.index} (PA ${h(prev.start)}-${h(prev.start + prev.length)}) overlaps PT_LOAD #${cur.index} (PA ${h(cur.start)}-${h(cur.start + cur.length)})`);
    }
  }
  return { segments: segments.map(({ start, length, fileOffset }) => ({ start, length, fileOffset })), hints: noteHints(file, notes) };
}

/** CPU count and the first vCPU's CR3 from QEMU's notes; malformed notes just yield no hint. */
function noteHints(file: ImageFile, notes: readonly { offset: number; size: number }[]): SourceHints {
  let cpus = 0;
  let dtb: bigint | undefined;
  for (const n of notes) {
    if (n.size > MAX_NOTES || n.offset + n.size > file.size) continue;
    const b = file.readAt(n.offset, n.size);
    for (let at = 0; at + 12 <= b.length; ) {
      const namesz = b.readUInt32LE(at);
      const descsz = b.readUInt32LE(at + 4);
      const type = b.readUInt32LE(at + 8);
      const nameAt = at + 12;
      const descAt = nameAt + Math.ceil(namesz / 4) * 4;
      const next = descAt + Math.ceil(descsz / 4) * 4;
      if (next > b.length) break;
      const name = b.subarray(nameAt, nameAt + namesz).toString('latin1').replace(/\0+$/, '');
      if (name === 'CORE' && type === NT_PRSTATUS) cpus++;
      if (name === 'QEMU' && dtb === undefined && descsz >= QEMU_CR3_AT + 8) {
        const cr3 = b.readBigUInt64LE(descAt + QEMU_CR3_AT);
        if (cr3 !== 0n) dtb = cr3;
      }
      at = next;
    }
  }
  const hints: { dtb?: bigint; numberOfProcessors?: number } = {};
  if (dtb !== undefined) hints.dtb = dtb;
  if (cpus > 0) hints.numberOfProcessors = cpus;
  return hints;
}
