/**
 * Independent truth (issue 23 part 3): the sample images read by OTHER readers' rules, transcribed
 * here from their source, so that the builder and the engine cannot share a misunderstanding of an
 * encoding. Nothing from windows/ or plugins/ is used: kernel VAs are translated by X64AddressSpace
 * (proven against QEMU's page tables elsewhere), structure offsets come from the Volatility 3 ISF
 * symbol tables in the shared reference data, and each expectation is written from the rule cited:
 * - Volatility 3 `framework/symbols/windows/extensions/pool.py`: POOL_HEADER_VISTA.is_free_pool /
 *   is_nonpaged_pool (PoolType 0 free, even > 0 non-paged), POOL_HEADER.get_object (top-down search
 *   for the object from Windows 8, bottom-up `BlockSize * 16 - round16(sizeof(_EPROCESS))` before),
 *   POOL_HEADER._calculate_optional_header_lengths, OBJECT_HEADER.get_object_type
 *   (`((header >> 8) ^ cookie ^ TypeIndex) & 0xff`);
 * - Volatility 3 `framework/plugins/windows/poolscanner.py` builtin_constraints: tag `Proc` (Windows 8+)
 *   or `Pro\xe3`, size (600, None);
 * - Volatility 3 `framework/symbols/windows/extensions/__init__.py` EPROCESS.is_valid (what the top-down
 *   search accepts), EPROCESS.get_session_id (Session -> _MM_SESSION_SPACE.SessionId), EX_FAST_REF.dereference;
 * - Volatility 3 `framework/plugins/windows/handles.py`: handles() (TableCode & ~7, level & 7),
 *   _make_handle_array (pointer pages, then 0x1000 / sizeof(entry) entries, handle = index * 4 + level base),
 *   _get_item (Windows 8.1+ x64: `(LowValue & ~7) >> sar`; before: Object as _EX_FAST_REF), get_type_map
 *   (ObTypeIndexTable pointers to _OBJECT_TYPE, .Name), find_cookie (nt!ObHeaderCookie);
 *   psxview.py _check_csrss_handles (Process handles of csrss.exe, Body as _EPROCESS);
 * - IntroVirt `src/windows/kernel/nt/types/HANDLE_TABLE_ENTRY_IMPL.cc` Value() / ObjectHeader():
 *   `0xFFFF000000000000 | ObjectPointerBits << 4`, and PspCidTable entries point at the object BODY
 *   (header = value - _OBJECT_HEADER.Body);
 * - Volatility 2 `volatility/plugins/gui/win32k_core.py` _MM_SESSION_SPACE.processes():
 *   ProcessList as a list of _EPROCESS through SessionProcessLinks;
 * - Volatility 3 `framework/layers/crash.py` WindowsCrashDump64Layer._load_segments and
 *   `framework/symbols/windows/crash64.json` / `crash_common.json`: full dump (DumpType 1 at 0xf98)
 *   runs at 0x88 (+0x10 Run[] of BasePage, PageCount), data from 2 header pages; bitmap dump (DumpType 5)
 *   _SUMMARY_DUMP at 0x2000 (HeaderSize +0x20, BitmapSize +0x30, bitmap +0x38), data from HeaderSize.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Profile } from '../profile/profile.js';
import { openSource } from '../sources/detect.js';
import type { PhysicalSource } from '../sources/physical-source.js';
import { X64AddressSpace } from '../translate/x64/address-space.js';
import { buildSample, type GroundTruth, type TruthProcess } from './index.js';
import { loadIsfProfile } from './isf-loader.js';
import { sharedIsfDir } from './profile-source.js';

const isfDir = sharedIsfDir();
const dir = mkdtempSync(join(tmpdir(), 'memscope-outside-'));
const sources: PhysicalSource[] = [];
afterAll(() => {
  for (const s of sources) s.close();
  rmSync(dir, { recursive: true, force: true });
});

const canonical = (va: bigint): bigint => (va & 0x8000_0000_0000n ? va | 0xffff_0000_0000_0000n : va & 0xffff_ffff_ffffn);
const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** A kernel-memory reader over one image, with the ISF's offsets. */
class Reader {
  readonly kernelBase: bigint;
  constructor(readonly space: X64AddressSpace, readonly isf: Profile, truth: GroundTruth) {
    this.kernelBase = BigInt(truth.kernelBase);
  }
  bytes(va: bigint, n: number): Uint8Array {
    const r = this.space.read(va, n);
    expect(r.missing, `read ${n} bytes at 0x${va.toString(16)}`).toEqual([]);
    return r.data;
  }
  u8 = (va: bigint) => this.bytes(va, 1)[0]!;
  u16 = (va: bigint) => dv(this.bytes(va, 2)).getUint16(0, true);
  u32 = (va: bigint) => dv(this.bytes(va, 4)).getUint32(0, true);
  u64 = (va: bigint) => dv(this.bytes(va, 8)).getBigUint64(0, true);
  off = (type: string, field: string) => BigInt(this.isf.offsetOf(type, field));
  sym = (name: string) => this.kernelBase + BigInt(this.isf.symbol(name));
  /** A bitfield read as its containing qword from the field's byte offset. */
  bits(va: bigint, type: string, field: string): bigint {
    const f = this.isf.field(type, field);
    if (f.type.kind !== 'bitfield') return this.u64(va + BigInt(f.offset));
    return (this.u64(va + BigInt(f.offset)) >> BigInt(f.type.bitPosition)) & ((1n << BigInt(f.type.bitLength)) - 1n);
  }
  unicode(va: bigint): string {
    const len = this.u16(va);
    const buf = this.u64(va + 8n);
    return Buffer.from(this.bytes(buf, len)).toString('utf16le');
  }
}

/** handles.py get_type_map: ObTypeIndexTable, pointers to _OBJECT_TYPE, the first null after index 0 ends it. */
function typeMap(r: Reader): Map<number, string> {
  const m = new Map<number, string>();
  const table = r.sym('ObTypeIndexTable');
  for (let i = 0; i < 100; i++) {
    const ptr = r.u64(table + BigInt(8 * i));
    if (i > 0 && ptr === 0n) break;
    if (ptr === 0n || ptr < 0xffff_8000_0000_0000n) continue;
    m.set(i, r.unicode(ptr + r.off('_OBJECT_TYPE', 'Name')));
  }
  return m;
}

/** pool.py OBJECT_HEADER.get_object_type; the cookie as handles.py find_cookie reads it (absent before Windows 10). */
function objectType(r: Reader, types: Map<number, string>, headerVa: bigint): string | undefined {
  const cookie = r.isf.hasSymbol('ObHeaderCookie') ? BigInt(r.u8(r.sym('ObHeaderCookie'))) : null;
  const ti = BigInt(r.u8(headerVa + r.off('_OBJECT_HEADER', 'TypeIndex')));
  return types.get(Number(cookie === null ? ti : ((headerVa >> 8n) ^ cookie ^ ti) & 0xffn));
}

/** handles.py handles() + _make_handle_array: every entry of a handle table with its handle value. */
function* handleEntries(r: Reader, handleTable: bigint): Generator<{ handle: number; entry: bigint }> {
  const tableCode = r.u64(handleTable + r.off('_HANDLE_TABLE', 'TableCode'));
  const size = BigInt(r.isf.sizeOf('_HANDLE_TABLE_ENTRY'));
  const count = 0x1000n / size;
  let depth = 0n;
  function* walk(table: bigint, level: bigint): Generator<{ handle: number; entry: bigint }> {
    if (level > 0n) {
      for (let i = 0n; i < 512n; i++) {
        const sub = r.u64(table + 8n * i);
        if (sub === 0n) continue;
        yield* walk(sub, level - 1n);
        depth++;
      }
      return;
    }
    for (let i = 0n; i < count; i++) yield { handle: Number(i * 4n + depth * count * 4n), entry: table + i * size };
  }
  yield* walk(tableCode & ~7n, tableCode & 7n);
}

/** handles.py _get_item: where a process handle table entry's _OBJECT_HEADER is (null when empty). */
function handleObjectHeader(r: Reader, entry: bigint): bigint | null {
  if (r.isf.hasField('_HANDLE_TABLE_ENTRY', 'ObjectPointerBits')) {
    const low = r.u64(entry); // LowValue
    if (low === 0n) return null;
    // ObpCaptureHandleInformationEx on x64 Windows 10 decodes with `sar rax, 10h`: find_sar_value's magic 0x10.
    return canonical((low & ~7n) >> 0x10n);
  }
  const object = r.u64(entry + r.off('_HANDLE_TABLE_ENTRY', 'Object'));
  return object === 0n ? null : object & ~0xfn; // EX_FAST_REF.dereference: the low 4 bits are a count on x64
}

/** IntroVirt HANDLE_TABLE_ENTRY_IMPL Value(): the object pointer a PspCidTable entry holds (an object body). */
function cidEntryBody(r: Reader, entry: bigint): bigint | null {
  if (r.isf.hasField('_HANDLE_TABLE_ENTRY', 'ObjectPointerBits')) {
    const bits = r.bits(entry, '_HANDLE_TABLE_ENTRY', 'ObjectPointerBits');
    return bits === 0n ? null : 0xffff_0000_0000_0000n | (bits << 4n);
  }
  const object = r.u64(entry + r.off('_HANDLE_TABLE_ENTRY', 'Object'));
  return object === 0n ? null : object & ~0xfn;
}

/** extensions/__init__.py EPROCESS.is_valid, as the top-down pool search applies it. */
function eprocessIsValid(r: Reader, body: bigint): boolean {
  const read = r.space.read(body, r.isf.sizeOf('_EPROCESS'));
  if (read.missing.length) return false;
  const v = dv(read.data);
  const at = (t: string, f: string) => r.isf.offsetOf(t, f);
  const nameOff = at('_EPROCESS', 'ImageFileName');
  const name = read.data[nameOff]!;
  if (name === 0) return false;
  const pid = v.getBigUint64(at('_EPROCESS', 'UniqueProcessId'), true);
  const isSystem = pid === 4n && Buffer.from(read.data.subarray(nameOff, nameOff + 6)).toString('latin1') === 'System';
  if (!isSystem) {
    const ft = (o: number) => v.getBigUint64(o, true);
    const year = (t: bigint) => new Date(Number(t / 10_000n - 11_644_473_600_000n)).getUTCFullYear();
    const ct = ft(at('_EPROCESS', 'CreateTime'));
    if (ct === 0n) return false;
    const now = new Date().getUTCFullYear();
    if (!(year(ct) > 1998 && year(ct) < now + 10)) return false;
    const et = ft(at('_EPROCESS', 'ExitTime'));
    if (et !== 0n && (!(year(et) > 1998 && year(et) < now + 10) || ct > et)) return false;
  }
  if (pid % 4n !== 0n) return false;
  const dtb = v.getBigUint64(at('_KPROCESS', 'DirectoryTableBase'), true);
  if ((dtb & ~0xfffn) === 0n) return false;
  const tl = at('_EPROCESS', 'ThreadListHead');
  return v.getBigUint64(tl, true) >= 0x8000_0000n && v.getBigUint64(tl + 8, true) >= 0x8000_0000n;
}

describe.skipIf(!isfDir).each([
  { build: '19041', seed: 21 },
  { build: '7601', seed: 22 },
])('the $build sample read by outside rules', ({ build, seed }) => {
  let truth: GroundTruth;
  let r: Reader;
  let types: Map<number, string>;
  let mapped: TruthProcess[];
  let raw: string;
  beforeAll(async () => {
    raw = join(dir, `s${build}.raw`);
    truth = await buildSample({ build, format: 'raw', out: raw, sizeMiB: 64, seed, processes: 4 });
    const source = openSource(raw);
    sources.push(source);
    r = new Reader(new X64AddressSpace(source, BigInt(truth.dtb)), new Profile(await loadIsfProfile(isfDir!, truth.build)), truth);
    types = typeMap(r);
    mapped = truth.processes.filter((p) => p.mapped !== false);
  }, 120_000);

  it("pool headers carry the process tag, a size Volatility's Proc constraint accepts and the PoolType POOL_HEADER_VISTA names", () => {
    const tag = Buffer.from(truth.buildNumber >= 9200 ? 'Proc' : 'Pro\u00e3', 'latin1');
    for (const p of mapped) {
      const ph = BigInt(p.poolHeader!);
      expect(Buffer.from(r.bytes(ph + r.off('_POOL_HEADER', 'PoolTag'), 4)), p.name).toEqual(tag);
      expect(Number(r.bits(ph, '_POOL_HEADER', 'BlockSize')) * 16).toBeGreaterThanOrEqual(600);
      const poolType = r.bits(ph, '_POOL_HEADER', 'PoolType');
      if (p.planted.includes('freed-pool-block')) expect(poolType, 'is_free_pool').toBe(0n);
      else expect(poolType % 2n === 0n && poolType > 0n, `${p.name}: is_nonpaged_pool (PoolType ${poolType})`).toBe(true);
    }
  });

  it("Volatility's get_object finds each EPROCESS in its pool block (top-down from Windows 8, bottom-up before)", () => {
    const phs = BigInt(r.isf.sizeOf('_POOL_HEADER'));
    const body = r.off('_OBJECT_HEADER', 'Body');
    const optional = ['CREATOR_INFO', 'NAME_INFO', 'HANDLE_INFO', 'QUOTA_INFO', 'PROCESS_INFO', 'AUDIT_INFO', 'EXTENDED_INFO', 'HANDLE_REVOCATION_INFO', 'PADDING_INFO']
      .filter((h) => r.isf.hasType(`_OBJECT_HEADER_${h}`)).map((h) => r.isf.sizeOf(`_OBJECT_HEADER_${h}`));
    const maxOptional = optional.reduce((a, b) => a + b, 0);
    for (const p of mapped) {
      const ph = BigInt(p.poolHeader!);
      const blockBytes = r.bits(ph, '_POOL_HEADER', 'BlockSize') * 16n;
      let found: bigint | null = null;
      if (truth.buildNumber >= 9200) {
        for (let addr = 0n; addr < BigInt(Math.min(maxOptional, Number(blockBytes))) && found === null; addr += 16n) {
          const pc = r.u64(ph + phs + addr + r.off('_OBJECT_HEADER', 'PointerCount'));
          if (BigInt.asIntN(64, pc) < 0n || pc >= 0x100_0000n) continue;
          if (eprocessIsValid(r, ph + phs + addr + body)) found = ph + phs + addr + body;
        }
      } else {
        const rounded = BigInt(Math.ceil(r.isf.sizeOf('_EPROCESS') / 16) * 16);
        if (eprocessIsValid(r, ph + blockBytes - rounded)) found = ph + blockBytes - rounded;
      }
      expect(found === null ? null : `0x${found.toString(16)}`, `${p.name} (${p.pid})`).toBe(p.offset);
    }
  });

  it("every process's object header decodes to the type named Process (get_object_type over ObTypeIndexTable)", () => {
    expect([...types.values()]).toContain('Process');
    for (const p of mapped) expect(objectType(r, types, BigInt(p.objectHeader!)), `${p.name} (${p.pid})`).toBe('Process');
  });

  it('PspCidTable holds exactly the running processes (handle = PID) and their threads (handle = TID), entries pointing at bodies', () => {
    const bodyOff = r.off('_OBJECT_HEADER', 'Body');
    const procs = new Map<string, number>();
    const threads = new Map<string, number>();
    for (const { handle, entry } of handleEntries(r, r.u64(r.sym('PspCidTable')))) {
      const b = cidEntryBody(r, entry);
      if (b === null) continue;
      const t = objectType(r, types, b - bodyOff);
      if (t === 'Process') {
        expect(Number(r.u64(b + r.off('_EPROCESS', 'UniqueProcessId')))).toBe(handle);
        procs.set(`0x${b.toString(16)}`, handle);
      } else if (t === 'Thread') threads.set(`0x${b.toString(16)}`, handle);
    }
    const want = truth.processes.filter((p) => p.foundBy.cidtable);
    expect([...procs.keys()].sort()).toEqual(want.map((p) => p.offset).sort());
    for (const p of want) expect(procs.get(p.offset)).toBe(p.pid);
    const wantThreads = want.flatMap((p) => p.threadOffsets!.map((o, i) => [o, p.threadIds![i]!] as const));
    expect([...threads.entries()].sort()).toEqual([...wantThreads].sort());
  });

  it("csrss.exe's handle tables hold exactly the processes the truth says csrss sees (psxview _check_csrss_handles)", () => {
    const bodyOff = r.off('_OBJECT_HEADER', 'Body');
    const seen = new Set<string>();
    const csrss = truth.processes.filter((p) => p.name === 'csrss.exe' && p.foundBy.pslist);
    expect(csrss.length).toBe(2);
    for (const c of csrss) {
      for (const { entry } of handleEntries(r, r.u64(BigInt(c.offset) + r.off('_EPROCESS', 'ObjectTable')))) {
        const h = handleObjectHeader(r, entry);
        if (h !== null && objectType(r, types, h) === 'Process') seen.add(`0x${(h + bodyOff).toString(16)}`);
      }
    }
    const want = truth.processes.filter((p) => p.foundBy.csrss).map((p) => p.offset);
    expect(want.length).toBeGreaterThan(5);
    expect([...seen].sort()).toEqual(want.sort());
  });

  it('session ids (EPROCESS.get_session_id) and session process lists (_MM_SESSION_SPACE.processes) follow the truth', () => {
    const sessionOf = new Map<bigint, number>();
    for (const p of truth.processes.filter((x) => x.foundBy.pslist)) {
      const s = r.u64(BigInt(p.offset) + r.off('_EPROCESS', 'Session'));
      const id = s === 0n ? null : r.u32(s + r.off('_MM_SESSION_SPACE', 'SessionId'));
      expect(id, `${p.name} (${p.pid})`).toBe(p.sessionId);
      if (s !== 0n) sessionOf.set(s, id!);
    }
    expect([...sessionOf.values()].sort()).toEqual([0, 1]);
    const links = r.off('_EPROCESS', 'SessionProcessLinks');
    for (const [space, id] of sessionOf) {
      const head = space + r.off('_MM_SESSION_SPACE', 'ProcessList');
      const members: string[] = [];
      for (let n = r.u64(head); n !== head && members.length < 1000; n = r.u64(n)) members.push(`0x${(n - links).toString(16)}`);
      const want = truth.processes.filter((p) => p.foundBy.session && p.sessionId === id).map((p) => p.offset);
      expect(members.sort(), `session ${id}`).toEqual(want.sort());
    }
  });

  it.runIf(build === '19041')('full and bitmap crash dumps hold, where Volatility\'s crash layer maps each page, the raw image\'s bytes', async () => {
    const readAt = (fd: number, pos: number, n: number): Buffer => {
      const b = Buffer.alloc(n);
      readSync(fd, b, 0, n, pos);
      return b;
    };
    const rawFd = openSync(raw, 'r');
    try {
      for (const format of ['crashdump', 'crashdump-bitmap'] as const) {
        const out = join(dir, `s${build}.${format}`);
        await buildSample({ build, format, out, sizeMiB: 64, seed, processes: 4 });
        const fd = openSync(out, 'r');
        try {
          const head = readAt(fd, 0, 0x2000);
          expect(head.toString('latin1', 0, 8)).toBe('PAGEDU64');
          expect(head.readBigUInt64LE(0x10)).toBe(BigInt(truth.dtb)); // _DUMP_HEADER64.DirectoryTableBase
          const dumpType = head.readUInt32LE(0xf98);
          const pages: [number, number][] = []; // [PA, file offset]
          if (format === 'crashdump') {
            expect(dumpType).toBe(1);
            let offset = 2; // headerpages
            for (let i = 0; i < head.readUInt32LE(0x88); i++) {
              const base = Number(head.readBigUInt64LE(0x98 + 16 * i));
              const count = Number(head.readBigUInt64LE(0x98 + 16 * i + 8));
              for (let k = 0; k < count; k++) pages.push([(base + k) * 0x1000, (offset + k) * 0x1000]);
              offset += count;
            }
          } else {
            expect(dumpType).toBe(5);
            const summary = readAt(fd, 0x2000, 0x38);
            expect(summary.toString('latin1', 0, 4)).toMatch(/^[SF]DMP$/);
            let offset = Number(summary.readBigUInt64LE(0x20)); // HeaderSize
            const bits = Number(summary.readBigUInt64LE(0x30)); // BitmapSize
            const bitmap = readAt(fd, 0x2000 + 0x38, Math.ceil(bits / 8));
            for (let pfn = 0; pfn < bits; pfn++) {
              if (!(bitmap[pfn >> 3]! & (1 << (pfn & 7)))) continue;
              pages.push([pfn * 0x1000, offset]);
              offset += 0x1000;
            }
          }
          const runPages = truth.runs.reduce((a, run) => a + Number(run.length) / 0x1000, 0);
          expect(pages).toHaveLength(runPages);
          for (const [pa, pos] of pages) {
            if (!readAt(rawFd, pa, 0x1000).equals(readAt(fd, pos, 0x1000))) throw new Error(`${format}: page at PA 0x${pa.toString(16)} (file 0x${pos.toString(16)}) differs from the raw image`);
          }
          // one value by hand: System's ImageFileName where the crash layer puts its EPROCESS
          const sys = truth.processes.find((p) => p.pid === 4)!;
          const nameAt = Number(sys.physicalOffset) + r.isf.offsetOf('_EPROCESS', 'ImageFileName');
          const page = pages.find(([pa]) => pa === nameAt - (nameAt % 0x1000))!;
          expect(readAt(fd, page[1] + (nameAt % 0x1000), 6).toString('latin1')).toBe('System');
        } finally {
          closeSync(fd);
        }
      }
    } finally {
      closeSync(rawFd);
    }
  }, 120_000);
});
