/**
 * Cross-checks the sample image builder with tools we do not control (issue 4, "Proof"):
 * - binutils `readelf` reads the ELF core: ET_CORE / x86-64, PT_LOAD physical addresses and sizes
 *   equal the truth's runs, and QEMU's CPU-state note carries the DTB as cr[3];
 * - LLVM's COFF reader (`llvm-readobj`) reads ntoskrnl's PE headers and CodeView debug directory,
 *   lifted out of the RAW image through the page tables (X64AddressSpace, proven against QEMU
 *   elsewhere) and laid out as a file by our own few lines below — no code from windows/ is used.
 * A missing tool fails the suite with the command that installs it (scripts/setup.sh).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSource } from '../sources/detect.js';
import { X64AddressSpace } from '../translate/x64/address-space.js';
import { buildSample, type GroundTruth } from './index.js';

const READELF = ['/usr/bin/readelf', 'readelf'];
const LLVM_READOBJ = ['/usr/lib/llvm-14/bin/llvm-readobj', 'llvm-readobj-14', 'llvm-readobj'];

/** Run the first candidate that exists; a missing tool is a failure, never a skip. */
function tool(candidates: readonly string[], args: readonly string[]): string {
  for (const exe of candidates) {
    if (exe.includes('/') && !existsSync(exe)) continue;
    try {
      return execFileSync(exe, args, { encoding: 'utf8', maxBuffer: 16 << 20 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      const err = e as { stderr?: string; message: string };
      throw new Error(`${exe} ${args.join(' ')} failed: ${err.stderr || err.message}`);
    }
  }
  throw new Error(
    `required tool not installed: tried ${candidates.join(', ')} — run scripts/setup.sh (apt-get install binutils llvm-14)`,
  );
}

const dir = mkdtempSync(join(tmpdir(), 'memscope-indep-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BUILDS = [
  { build: '19041', seed: 7 },
  { build: '22000', seed: 11 },
] as const;

interface Built {
  readonly raw: string;
  readonly elf: string;
  readonly truthRaw: GroundTruth;
  readonly truthElf: GroundTruth;
}
const built = new Map<string, Built>();

beforeAll(async () => {
  for (const { build, seed } of BUILDS) {
    const raw = join(dir, `${build}.raw`);
    const elf = join(dir, `${build}.elf`);
    // Same seed in both formats: the same physical memory, so the ELF can be checked against the raw.
    const truthRaw = await buildSample({ build, format: 'raw', out: raw, sizeMiB: 64, seed });
    const truthElf = await buildSample({ build, format: 'elf', out: elf, sizeMiB: 64, seed });
    built.set(build, { raw, elf, truthRaw, truthElf });
  }
}, 30_000);

const get = (build: string): Built => {
  const b = built.get(build);
  if (!b) throw new Error(`sample ${build} was not built`);
  return b;
};

function readFileRange(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, b, done, length - done, offset + done);
      if (n === 0) throw new Error(`${path}: short read at ${offset + done}`);
      done += n;
    }
    return b;
  } finally {
    closeSync(fd);
  }
}

interface LoadSegment {
  readonly offset: number;
  readonly paddr: number;
  readonly filesz: number;
  readonly memsz: number;
}

/** PT_LOAD rows of `readelf -lW`: Type Offset VirtAddr PhysAddr FileSiz MemSiz Flg Align. */
function loadSegments(text: string): LoadSegment[] {
  const out: LoadSegment[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] !== 'LOAD') continue;
    const n = (s: string | undefined): number => Number.parseInt(s ?? 'x', 16);
    out.push({ offset: n(f[1]), paddr: n(f[3]), filesz: n(f[4]), memsz: n(f[5]) });
  }
  return out;
}

describe.each(BUILDS)('readelf reads the ELF core sample of $build', ({ build }) => {
  it('is an ELF64 x86-64 ET_CORE file', () => {
    const h = tool(READELF, ['-hW', get(build).elf]);
    expect(h).toMatch(/Class:\s+ELF64/);
    expect(h).toMatch(/Data:\s+2's complement, little endian/);
    expect(h).toMatch(/Type:\s+CORE \(Core file\)/);
    expect(h).toMatch(/Machine:\s+Advanced Micro Devices X86-64/);
  });

  it('has one PT_LOAD per truth run, at its physical address and length, inside the file', () => {
    const { elf, truthElf } = get(build);
    const segs = loadSegments(tool(READELF, ['-lW', elf]));
    expect(segs.map((s) => ({ start: s.paddr, length: s.memsz }))).toEqual(
      truthElf.runs.map((r) => ({ start: Number.parseInt(r.start, 16), length: Number.parseInt(r.length, 16) })),
    );
    const size = statSync(elf).size;
    let prevEnd = 0;
    for (const s of segs) {
      expect(s.filesz, `segment at PA 0x${s.paddr.toString(16)}: FileSiz != MemSiz`).toBe(s.memsz);
      expect(s.offset % 4096, `segment at PA 0x${s.paddr.toString(16)}: file offset not page aligned`).toBe(0);
      expect(s.offset).toBeGreaterThanOrEqual(prevEnd);
      expect(s.offset + s.filesz).toBeLessThanOrEqual(size);
      prevEnd = s.offset + s.filesz;
    }
  });

  it("holds, at each PT_LOAD's file offset, the same bytes the raw image holds at that physical address", () => {
    const { elf, raw, truthRaw, truthElf } = get(build);
    expect(truthElf.runs).toEqual(truthRaw.runs);
    for (const s of loadSegments(tool(READELF, ['-lW', elf]))) {
      const a = readFileRange(elf, s.offset, s.filesz);
      const b = readFileRange(raw, s.paddr, s.filesz);
      expect(a.equals(b), `PT_LOAD at PA 0x${s.paddr.toString(16)} differs from the raw image`).toBe(true);
    }
  });

  it('has an NT_PRSTATUS note and a QEMU CPU-state note whose cr[3] is the DTB', () => {
    const { elf, truthElf } = get(build);
    const n = tool(READELF, ['-nW', elf]);
    expect(n).toMatch(/CORE\s+0x[0-9a-f]+\s+NT_PRSTATUS/);
    const qemu = n.split('\n').find((l) => /^\s*QEMU\s/.test(l));
    expect(qemu, 'no QEMU note in readelf -n output').toBeDefined();
    const data = /description data:\s*((?:[0-9a-f]{2}\s*)+)$/.exec(qemu ?? '');
    expect(data, 'readelf did not dump the QEMU note bytes').not.toBeNull();
    const bytes = Buffer.from((data?.[1] ?? '').trim().split(/\s+/).map((x) => Number.parseInt(x, 16)));
    // QEMUCPUState (qemu target/i386/arch_dump.c): u32 version, u32 size, 18 u64 GPRs/rip/rflags,
    // 10 QEMUCPUSegment of 24 bytes, then u64 cr[5] — cr[3] at 8 + 144 + 240 + 24 = 0x1a0.
    expect(bytes.readUInt32LE(0)).toBe(1);
    expect(bytes.readUInt32LE(4)).toBe(bytes.length);
    expect('0x' + bytes.readBigUInt64LE(0x1a0).toString(16)).toBe(truthElf.dtb);
  });
});

// ---- ntoskrnl out of the raw image, as a file LLVM can read ----

interface SectionHeader {
  readonly name: string;
  readonly virtualSize: number;
  readonly rva: number;
  readonly rawSize: number;
  readonly rawPtr: number;
}

/**
 * Lay the loaded image (RVA-addressed, as the loader maps it) out as a PE file (PE/COFF spec): the
 * headers at 0, each section's raw data at its PointerToRawData. Only the headers and the section
 * holding the debug directory are copied; the rest of the file stays zero (sparse).
 */
function peFileFromMappedImage(read: (rva: number, length: number) => Buffer, out: string): { sections: SectionHeader[]; debugRva: number } {
  const dos = read(0, 0x40);
  if (dos.toString('latin1', 0, 2) !== 'MZ') throw new Error('kernel base holds no MZ header');
  const eLfanew = dos.readUInt32LE(0x3c);
  const nt = read(eLfanew, 4 + 20 + 240);
  if (nt.toString('latin1', 0, 4) !== 'PE\0\0') throw new Error(`no PE signature at e_lfanew 0x${eLfanew.toString(16)}`);
  const sectionCount = nt.readUInt16LE(4 + 2);
  const optSize = nt.readUInt16LE(4 + 16);
  const opt = 4 + 20;
  const sizeOfHeaders = nt.readUInt32LE(opt + 60);
  const debugRva = nt.readUInt32LE(opt + 112 + 6 * 8); // DataDirectory[IMAGE_DIRECTORY_ENTRY_DEBUG]
  const table = read(eLfanew + 4 + 20 + optSize, sectionCount * 40);
  const sections: SectionHeader[] = [];
  for (let i = 0; i < sectionCount; i++) {
    const s = table.subarray(i * 40, i * 40 + 40);
    sections.push({
      name: s.toString('latin1', 0, 8).replace(/\0+$/, ''),
      virtualSize: s.readUInt32LE(8),
      rva: s.readUInt32LE(12),
      rawSize: s.readUInt32LE(16),
      rawPtr: s.readUInt32LE(20),
    });
  }
  const holder = sections.find((s) => debugRva >= s.rva && debugRva < s.rva + s.virtualSize);
  if (!holder) throw new Error(`debug directory RVA 0x${debugRva.toString(16)} is in no section`);
  const fileSize = Math.max(sizeOfHeaders, ...sections.map((s) => s.rawPtr + s.rawSize));
  const fd = openSync(out, 'w');
  try {
    ftruncateSync(fd, fileSize);
    writeSync(fd, read(0, sizeOfHeaders), 0, sizeOfHeaders, 0);
    const n = Math.min(holder.virtualSize, holder.rawSize);
    writeSync(fd, read(holder.rva, n), 0, n, holder.rawPtr);
  } finally {
    closeSync(fd);
  }
  return { sections, debugRva };
}

/**
 * llvm-readobj's PDBGUID -> symbol-server form (32 hex: Data1, Data2, Data3 as numbers, Data4 bytes).
 * LLVM 14 prints the 16 GUID bytes in file order, `(29 7C ED BB FB 55 52 E4 2A AA …)`, so Data1..3
 * (little-endian in CV_INFO_PDB70) are byte-reversed here; later LLVMs print `{BBED7C29-55FB-…}`.
 */
function guidSymbolServerForm(g: string): string {
  const braced = /^\{([0-9A-Fa-f-]{36})\}$/.exec(g);
  if (braced) return braced[1]!.replace(/-/g, '').toUpperCase();
  const bytes = /^\(((?:[0-9A-Fa-f]{2}\s*){16})\)$/.exec(g)?.[1]?.trim().split(/\s+/);
  if (!bytes) throw new Error(`unrecognised llvm-readobj PDBGUID format: ${g}`);
  const rev = (a: number, b: number): string => bytes.slice(a, b).reverse().join('');
  return (rev(0, 4) + rev(4, 6) + rev(6, 8) + bytes.slice(8).join('')).toUpperCase();
}

describe.each(BUILDS)("llvm-readobj reads ntoskrnl's PE lifted from the raw sample of $build", ({ build }) => {
  it('reports an AMD64 image whose CodeView entry names the truth PDB (name, GUID, age)', () => {
    const { raw, truthRaw: t } = get(build);
    const source = openSource(raw);
    const pe = join(dir, `ntoskrnl-${build}.exe`);
    let layout: ReturnType<typeof peFileFromMappedImage>;
    let sizeOfImage: number;
    try {
      const space = new X64AddressSpace(source, BigInt(t.pml4));
      const base = BigInt(t.kernelBase);
      const read = (rva: number, length: number): Buffer => {
        const r = space.read(base + BigInt(rva), length);
        if (r.missing.length > 0) {
          const m = r.missing[0]!;
          throw new Error(`kernel VA 0x${m.va.toString(16)} unreadable: ${m.reason}`);
        }
        return Buffer.from(r.data);
      };
      const ntOff = read(0, 0x40).readUInt32LE(0x3c);
      sizeOfImage = read(ntOff + 4 + 20 + 56, 4).readUInt32LE(0);
      layout = peFileFromMappedImage(read, pe);
    } finally {
      source.close();
    }
    if (t.kernelSize !== undefined) expect(sizeOfImage).toBe(Number.parseInt(t.kernelSize, 16));

    const out = tool(LLVM_READOBJ, ['--file-headers', '--coff-debug-directory', pe]);
    expect(out).toMatch(/Format:\s+COFF-x86-64/);
    expect(out).toMatch(/Machine:\s+IMAGE_FILE_MACHINE_AMD64 \(0x8664\)/);
    expect(out).toMatch(/Magic:\s+0x20B/);
    expect(out).toMatch(new RegExp(`ImageBase:\\s+0x${BigInt(t.kernelBase).toString(16)}\\b`, 'i'));
    expect(out).toMatch(new RegExp(`SizeOfImage:\\s+${sizeOfImage}\\b`));
    expect(out).toMatch(new RegExp(`SectionCount:\\s+${layout.sections.length}\\b`));
    expect(out).toMatch(new RegExp(`DebugRVA:\\s+0x${layout.debugRva.toString(16)}\\b`, 'i'));
    expect(out).toMatch(/DebugSize:\s+0x1C\b/); // one IMAGE_DEBUG_DIRECTORY (28 bytes)

    const entry = /DebugEntry \{([\s\S]*?)\n {2}\}/.exec(out)?.[1];
    expect(entry, `no DebugEntry in llvm-readobj output:\n${out}`).toBeDefined();
    const field = (name: string): string => {
      const v = new RegExp(`^\\s*${name}:\\s*(.+)$`, 'm').exec(entry ?? '')?.[1]?.trim();
      if (v === undefined) throw new Error(`llvm-readobj DebugEntry has no ${name}:\n${entry}`);
      return v;
    };
    expect(field('Type')).toMatch(/CodeView \(0x2\)/);
    expect(Number.parseInt(field('AddressOfRawData'), 16)).toBeGreaterThanOrEqual(layout.debugRva + 28);
    expect(field('PDBSignature')).toBe('0x53445352'); // 'RSDS'
    expect(guidSymbolServerForm(field('PDBGUID'))).toBe(t.pdb.guid.toUpperCase());
    expect(Number(field('PDBAge'))).toBe(t.pdb.age);
    expect(field('PDBFileName')).toBe(t.pdb.name);

    // The entry's PointerToRawData must point at the same record in the file layout.
    const rawPtr = Number.parseInt(field('PointerToRawData'), 16);
    expect(readFileRange(pe, rawPtr, 4).toString('latin1'), 'PointerToRawData does not point at the RSDS record').toBe('RSDS');
  });
});
