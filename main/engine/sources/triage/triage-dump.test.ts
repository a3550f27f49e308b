/**
 * The triage reader on the two real dumps Windows wrote (shared/data/crash-dumps). Every expected
 * value below was read off the bytes with xxd/od (offsets in the comments), not from our reader.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemScopeError } from '../../errors.js';
import { makeTempDir, removeTempDir } from '../../acquire/writers/testing.js';
import { sharedDataPath } from '../../util/shared-data.js';
import { openSource } from '../detect.js';
import { openTriageDump, type TriageDump } from './triage-dump.js';

const X64 = sharedDataPath('crash-dumps', 'triage_x64.dmp');
const ARM64 = sharedDataPath('crash-dumps', 'triage_arm64.dmp');

let dir: string;
let x64: Buffer;
beforeAll(() => {
  dir = makeTempDir('memscope-triage-');
  x64 = fs.readFileSync(X64);
});
afterAll(() => removeTempDir(dir));

function withDump<T>(p: string, fn: (d: TriageDump) => T): T {
  const d = openTriageDump(p);
  try { return fn(d); } finally { d.close(); }
}

function errorOf(fn: () => unknown): MemScopeError {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(MemScopeError);
  expect((err as Error).message).not.toContain('\n');
  return err as MemScopeError;
}

/** A copy of the x64 dump with `edit` applied, in the temp dir. */
function variant(name: string, edit: (b: Buffer) => Buffer | void): string {
  const b = Buffer.from(x64);
  const out = edit(b) ?? b;
  const p = path.join(dir, name);
  fs.writeFileSync(p, out);
  return p;
}

describe('triage dump reader: the real Windows 10 19041 x64 dump', () => {
  it('reads DUMP_HEADER64: build, bugcheck and its parameters, crash time, DTB, list heads, processors', () => {
    withDump(X64, (d) => {
      expect(d.header).toMatchObject({
        majorVersion: 0xf, minorVersion: 19041, // 0x008, 0x00c: 0f000000 614a0000
        dumpType: 4, machineImageType: 0x8664, numberOfProcessors: 16, // 0xf98, 0x030, 0x034
        bugCheckCode: 0x1000007e, // 0x038: 7e000010
        directoryTableBase: 0x1ad000n, psLoadedModuleList: 0xfffff8047c62a390n, psActiveProcessHead: 0xfffff8047c61e200n,
        kdDebuggerDataBlock: 0xfffff8047c600b20n, pfnDataBase: 0xfffff8047c6fc500n,
        systemTime: 0x01d707f23dbb3399n, systemUpTime: 0x023bc1e9n, // 0xfa8, 0x1030
      });
      // 0x040..0x05f: STATUS_ACCESS_VIOLATION, the faulting address, exception record, context record
      expect(d.header.bugCheckParameters).toEqual([0xffffffffc0000005n, 0xfffff8048b58334cn, 0xffff850429891ee8n, 0xffff850429891720n]);
    });
  });

  it('reads TRIAGE_DUMP at 0x2000 (file offsets; ContextOffset/ExceptionOffset point into the header page)', () => {
    withDump(X64, (d) => {
      expect(d.triage).toMatchObject({
        servicePackBuild: 0, sizeOfDump: 0x13a28c, validOffset: 0x13a288, contextOffset: 0x348, exceptionOffset: 0xf00,
        prcbOffset: 0x21b8, processOffset: 0xd0b8, threadOffset: 0xdaf8, callStackOffset: 0xe390, sizeOfCallStack: 0x2118,
        driverListOffset: 0x10828, driverCount: 151, stringPoolOffset: 0x15d18, stringPoolSize: 0x3720,
        topOfStack: 0xffff850429890ee8n, dataPageOffset: 0, debuggerDataOffset: 0x104a8, debuggerDataSize: 0x380,
        dataBlocksOffset: 0x19438, dataBlocksCount: 1831,
      });
    });
  });

  it('counts the memory it holds: 1831 data blocks touching 1043 distinct pages', () => {
    withDump(X64, (d) => {
      expect(d.memory.blocks).toHaveLength(1831);
      // table at 0x19438: a0a7627c04f8ffff a8060200 9c000000
      expect(d.memory.blocks[0]).toEqual({ virtualAddress: 0xfffff8047c62a7a0n, offset: 0x206a8, size: 0x9c });
      expect(d.memory.blocks[1830]).toEqual({ virtualAddress: 0xfffff804780d1bc0n, offset: 0x13a0fa, size: 0x100 });
      // pages and bytes as summed independently (python over the same table)
      expect(d.memory.pages).toBe(1043);
      expect(d.memory.bytes).toBe(1153874);
    });
  });

  it('reads the driver list and its string pool (DUMP_DRIVER_ENTRY64, DUMP_STRING)', () => {
    withDump(X64, (d) => {
      const drivers = d.drivers();
      expect(drivers).toHaveLength(151);
      // entry 0 at 0x10828: name at 0x15d18 (Length 0x21), DllBase at +0x38, SizeOfImage +0x48, CheckSum +0x80, TimeDateStamp +0x88
      expect(drivers[0]).toEqual({
        path: '\\SystemRoot\\system32\\ntoskrnl.exe', name: 'ntoskrnl.exe',
        base: 0xfffff8047ba00000n, size: 0x1046000, timeDateStamp: 0xd8333e6, checkSum: 0xa5938c,
      });
      expect(drivers[1]).toMatchObject({ name: 'hal.dll', base: 0xfffff80479440000n, size: 0x6000 });
      expect(drivers[143]).toMatchObject({ path: '\\SystemRoot\\System32\\drivers\\amdppm.sys', base: 0xfffff8048b580000n, size: 0x3b000 });
      expect(drivers[150]).toMatchObject({ name: 'rdpbus.sys', base: 0xfffff8048b680000n, size: 0xe000 });
    });
  });

  it('reads the KDBG copy: OwnerTag KDBG, KernBase, and the header\'s list heads again', () => {
    withDump(X64, (d) => {
      const k = d.kdbg();
      expect(k).toEqual({ offset: 0x104a8, size: 0x380, kernBase: 0xfffff8047ba00000n, psLoadedModuleList: d.header.psLoadedModuleList, psActiveProcessHead: d.header.psActiveProcessHead });
      // the kernel's own PE header is one of the data blocks
      expect(Buffer.from(d.readVirtual(0xfffff8047ba00000n, 2)!).toString('latin1')).toBe('MZ');
      expect(d.readVirtual(0xfffff8047ba00ff0n, 0x20)).toBeNull(); // runs past that 0x1000-byte block
    });
  });

  it('copies kernel objects by their TRIAGE_DUMP field (EPROCESS at ProcessOffset starts with dispatcher type 3)', () => {
    withDump(X64, (d) => {
      expect(d.copyOf('ProcessOffset', 0xa40)![0]).toBe(3);
      expect(d.copyOf('ThreadOffset', 0x898)![0]).toBe(6);
      expect(errorOf(() => d.copyOf('ThreadOffset', 0x200000)).message).toMatch(/ThreadOffset \(copied object: 0x200000 bytes at 0xdaf8\) points past the end of the triage data \(SizeOfDump 0x13a28c\)/);
    });
  });
});

describe('triage dump reader: the real Windows 11 22000 ARM64 dump', () => {
  it('has the same TRIAGE_DUMP layout (drivers and KDBG read), though MemScope does not analyse ARM64', () => {
    withDump(ARM64, (d) => {
      expect(d.header).toMatchObject({ machineImageType: 0xaa64, minorVersion: 22000, dumpType: 4, bugCheckCode: 0x1c8, numberOfProcessors: 8 });
      expect(d.triage).toMatchObject({ driverListOffset: 0xde30, driverCount: 245, debuggerDataOffset: 0xdab0, dataBlocksCount: 679 });
      expect(d.drivers()[0]!.name).toBe('ntoskrnl.exe');
      expect(d.kdbg()!.kernBase).toBe(0xfffff803f2e00000n);
    });
  });
});

describe('commands that need physical memory', () => {
  it('refuse the x64 triage dump in one line saying how many pages it holds and what info still shows', () => {
    const e = errorOf(() => openSource(X64));
    expect(e.kind).toBe('analysis');
    expect(e.message).toBe(`${X64}: a kernel triage dump (DumpType 4) holds only 1043 pages of memory (1831 blocks of kernel virtual memory, no physical memory or page tables), not the physical memory this command reads; \`memscope info\` still shows its bugcheck, crash time, build, kernel base, crashing thread's process and loaded drivers`);
  });

  it('refuse the ARM64 dump naming its machine type', () => {
    const e = errorOf(() => openSource(ARM64));
    expect(e.kind).toBe('format');
    expect(e.message).toMatch(/crash dump for machine type 0xAA64 \(ARM64\): MemScope analyses x64 \(0x8664\) Windows memory only/);
  });
});

describe('triage dump reader: bad input fails with one line naming the field', () => {
  const u32 = (at: number, v: number) => (b: Buffer) => { b.writeUInt32LE(v >>> 0, at); };
  const cases: [string, (b: Buffer) => Buffer | void, RegExp][] = [
    ['SizeOfDump past the file', u32(0x2004, 0x200000), /SizeOfDump 0x200000 is larger than the file/],
    ['SizeOfDump below its headers', u32(0x2004, 0x100), /SizeOfDump 0x100 is smaller than its own headers/],
    ['ValidOffset without the marker', u32(0x2008, 0x13a284), /ValidOffset 0x13a284 holds 0x0, not the TRIAGE_DUMP_VALID marker "TRGD"/],
    ['ValidOffset past SizeOfDump', u32(0x2008, 0xfffffff0), /ValidOffset 0xfffffff0 points past the end of the triage data/],
    ['ProcessOffset past SizeOfDump', u32(0x2020, 0x13a28c), /ProcessOffset 0x13a28c points past/],
    ['SizeOfCallStack huge', u32(0x202c, 0xffffffff), /SizeOfCallStack \(call stack: 0xffffffff bytes at 0xe390\) points past/],
    ['StringPoolSize huge', u32(0x203c, 0x7fffffff), /StringPoolSize \(string pool/],
    ['DebuggerDataSize huge', u32(0x2074, 0xffffff00), /DebuggerDataSize \(KDBG copy/],
    ['DataBlocksCount absurd', u32(0x207c, 0xffffffff), /DataBlocksCount 4294967295 is absurd/],
    ['DataBlocksCount past SizeOfDump', u32(0x207c, 0x100000), /DataBlocksCount \(1048576 data blocks: 0x1000000 bytes at 0x19438\) points past/],
    ['a data block past SizeOfDump', u32(0x19438 + 5 * 16 + 12, 0x7fffffff), /data block 5 Offset\/Size \(block bytes: 0x7fffffff bytes at 0x3/],
    ['a data block wrapping the address space', (b) => { b.writeBigUInt64LE(0xffffffffffffff00n, 0x19438 + 7 * 16); }, /data block 7 VirtualAddress 0xffffffffffffff00 \+ Size 0x[0-9a-f]+ wraps past the top/],
    ['a truncated file', (b) => b.subarray(0, 0x100000), /SizeOfDump 0x13a28c is larger than the file \(0x100000 bytes\); the dump is truncated/],
    ['a file cut inside TRIAGE_DUMP', (b) => b.subarray(0, 0x2040), /truncated triage dump: TRIAGE_DUMP at 0x2000 has 64 of 128 bytes/],
  ];
  for (const [what, edit, re] of cases) {
    it(`on open: ${what}`, () => {
      const p = variant(`open-${what.replace(/\W+/g, '-')}.dmp`, edit);
      expect(errorOf(() => openTriageDump(p)).message).toMatch(re);
      expect(errorOf(() => openSource(p)).message).toMatch(re); // the commands see the same line
    });
  }

  const lazy: [string, (b: Buffer) => void, (d: TriageDump) => unknown, RegExp][] = [
    ['DriverCount past SizeOfDump', u32(0x2034, 0x10000), (d) => d.drivers(), /DriverCount \(65536 driver entries: 0x900000 bytes at 0x10828\) points past/],
    ['DriverCount absurd', u32(0x2034, 0x1000000), (d) => d.drivers(), /DriverCount 16777216 is absurd/],
    ['a DriverNameOffset outside the string pool', u32(0x10828 + 3 * 0x90, 0x100), (d) => d.drivers(), /driver 3 DriverNameOffset 0x100 lies outside the string pool \(0x15d18, 0x3720 bytes\)/],
    ['a name Length past the pool', u32(0x15d18, 0x10000), (d) => d.drivers(), /driver 0 DriverNameOffset 0x15d18: name Length 65536 runs past the end of the string pool/],
    ['a KDBG copy without its OwnerTag', u32(0x104a8 + 0x10, 0x12345678), (d) => d.kdbg(), /KDBG copy at DebuggerDataOffset 0x104a8 has OwnerTag "xV4\.", not "KDBG"/],
    ['DebuggerDataSize too small', u32(0x2074, 0x20), (d) => d.kdbg(), /DebuggerDataSize 0x20 is smaller than the KDBG fields MemScope reads \(0x58 bytes\)/],
  ];
  for (const [what, edit, read, re] of lazy) {
    it(`when read: ${what}`, () => {
      const p = variant(`lazy-${what.replace(/\W+/g, '-')}.dmp`, edit);
      withDump(p, (d) => { expect(errorOf(() => read(d)).message).toMatch(re); });
    });
  }
});
