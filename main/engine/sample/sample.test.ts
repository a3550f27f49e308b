import { createHash } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, readSync, closeSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemScopeError } from '../errors.js';
import type { Profile } from '../profile/profile.js';
import { buildSample } from './index.js';
import { resolveSampleProfile, sharedIsfDir } from './profile-source.js';
import type { GroundTruth } from './truth.js';

/**
 * Checks sample images with a minimal reader written here from the Intel SDM / PE / Windows rules
 * (it shares no code with the builder beyond the profile accessor for offsets).
 */
const dir = mkdtempSync(join(tmpdir(), 'memscope-sample-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

class RawReader {
  private readonly fd: number;
  constructor(path: string) {
    this.fd = openSync(path, 'r');
  }
  close(): void {
    closeSync(this.fd);
  }
  pa(addr: number, len: number): Buffer {
    const b = Buffer.alloc(len);
    readSync(this.fd, b, 0, len, addr);
    return b;
  }
  q(addr: number): bigint {
    return this.pa(addr, 8).readBigUInt64LE(0);
  }
  /** SDM 4-level walk; 2 MiB pages via PS in the PDE. */
  translate(cr3: bigint, va: bigint): number | null {
    let table = cr3 & 0x000f_ffff_ffff_f000n;
    for (const shift of [39n, 30n, 21n, 12n]) {
      const e = this.q(Number(table + ((va >> shift) & 0x1ffn) * 8n));
      if (!(e & 1n)) return null;
      if (shift === 21n && e & 0x80n) return Number((e & 0x000f_ffff_ffe0_0000n) + (va & 0x1f_ffffn));
      table = e & 0x000f_ffff_ffff_f000n;
    }
    return Number(table + (va & 0xfffn));
  }
  va(cr3: bigint, va: bigint, len: number): Buffer {
    const out = Buffer.alloc(len);
    for (let done = 0; done < len; ) {
      const cur = va + BigInt(done);
      const n = Math.min(0x1000 - Number(cur & 0xfffn), len - done);
      const pa = this.translate(cr3, cur);
      if (pa === null) throw new Error(`unmapped ${cur.toString(16)}`);
      this.pa(pa, n).copy(out, done);
      done += n;
    }
    return out;
  }
  /** 4 KiB frames the kernel half (PML4 256..511, self-reference skipped) maps, 2 MiB pages expanded. */
  kernelFrames(cr3: bigint, selfRef: number): Set<number> {
    const out = new Set<number>();
    const entries = (table: bigint) => Array.from({ length: 512 }, (_, i) => this.q(Number(table) + 8 * i));
    const frame = (e: bigint) => e & 0x000f_ffff_ffff_f000n;
    entries(cr3).forEach((e4, i4) => {
      if (i4 < 256 || i4 === selfRef || !(e4 & 1n)) return;
      for (const e3 of entries(frame(e4))) {
        if (!(e3 & 1n)) continue;
        for (const e2 of entries(frame(e3))) {
          if (!(e2 & 1n)) continue;
          if (e2 & 0x80n) {
            const base = Number((e2 & 0x000f_ffff_ffe0_0000n) / 0x1000n);
            for (let i = 0; i < 512; i++) out.add(base + i);
            continue;
          }
          for (const e1 of entries(frame(e2))) if (e1 & 1n) out.add(Number(frame(e1) / 0x1000n));
        }
      }
    });
    return out;
  }
  vq(cr3: bigint, va: bigint): bigint {
    return this.va(cr3, va, 8).readBigUInt64LE(0);
  }
}

const off = (p: Profile, t: string, path: string): number => {
  let type = t;
  let o = 0;
  for (const part of path.split('.')) {
    const f = p.field(type, part);
    o += f.offset;
    if (f.type.kind === 'struct') type = f.type.name;
  }
  return o;
};
const bits = (p: Profile, t: string, f: string, raw: bigint): bigint => {
  const d = p.field(t, f);
  if (d.type.kind !== 'bitfield') return raw;
  return (raw >> BigInt(d.type.bitPosition)) & ((1n << BigInt(d.type.bitLength)) - 1n);
};
const utf16 = (b: Buffer) => b.toString('utf16le');

const HAVE_ISF = sharedIsfDir() !== null;

function verify(path: string, truth: GroundTruth, profile: Profile, scan = true): void {
  const r = new RawReader(path);
  try {
    const cr3 = BigInt(truth.dtb) & ~0xfffn;
    expect(cr3).toBe(BigInt(truth.pml4));
    // Self-reference PML4 entry.
    const self = r.q(Number(cr3) + truth.selfRefIndex * 8);
    expect(self & 1n).toBe(1n);
    expect(self & 0x000f_ffff_ffff_f000n).toBe(cr3);
    // Low stub.
    if (truth.lowStubPa) {
      const pa = Number(BigInt(truth.lowStubPa));
      expect(pa).toBeLessThan(0x10_0000);
      expect(r.q(pa) & 0xffff_ffff_ffff_00ffn).toBe(0x0000_0001_0006_00e9n);
      expect(r.q(pa + 0x70) & 0xffff_f800_0000_0003n).toBe(0xffff_f800_0000_0000n);
      expect(r.q(pa + 0xa0)).toBe(cr3);
    }
    // ntoskrnl PE header and CodeView record.
    const kb = BigInt(truth.kernelBase);
    expect(kb % 0x20_0000n).toBe(0n);
    const hdr = r.va(cr3, kb, 0x1000);
    expect(hdr.toString('latin1', 0, 2)).toBe('MZ');
    const nt = hdr.readUInt32LE(0x3c);
    expect(hdr.toString('latin1', nt, nt + 4)).toBe('PE\0\0');
    expect(hdr.readUInt16LE(nt + 4)).toBe(0x8664);
    const opt = nt + 24;
    expect(hdr.readUInt16LE(opt)).toBe(0x20b);
    expect(hdr.readUInt32LE(opt + 56)).toBe(Number(BigInt(truth.kernelSize ?? '0')));
    const dbgRva = hdr.readUInt32LE(opt + 112 + 6 * 8);
    const dbg = r.va(cr3, kb + BigInt(dbgRva), 28);
    expect(dbg.readUInt32LE(12)).toBe(2); // CODEVIEW
    const rsds = r.va(cr3, kb + BigInt(dbg.readUInt32LE(20)), dbg.readUInt32LE(16));
    expect(rsds.toString('latin1', 0, 4)).toBe('RSDS');
    const guid =
      rsds.readUInt32LE(4).toString(16).padStart(8, '0') + rsds.readUInt16LE(8).toString(16).padStart(4, '0') +
      rsds.readUInt16LE(10).toString(16).padStart(4, '0') + rsds.subarray(12, 20).toString('hex');
    expect(guid.toUpperCase()).toBe(truth.pdb.guid);
    expect(rsds.readUInt32LE(20)).toBe(truth.pdb.age);
    expect(rsds.toString('latin1', 24, rsds.length - 1)).toBe(truth.pdb.name);
    // NtBuildNumber at its RVA.
    const nbn = r.va(cr3, kb + BigInt(profile.symbol('NtBuildNumber')), 4).readUInt32LE(0);
    expect(nbn).toBe((0xf000_0000 | truth.buildNumber) >>> 0);

    // pslist: walk PsActiveProcessHead.
    const apl = off(profile, '_EPROCESS', 'ActiveProcessLinks');
    const head = kb + BigInt(profile.symbol('PsActiveProcessHead'));
    const listed: bigint[] = [];
    for (let e = r.vq(cr3, head); e !== head && listed.length < 5000; e = r.vq(cr3, e)) listed.push(e - BigInt(apl));
    const expectListed = truth.processes.filter((p) => p.foundBy.pslist).map((p) => BigInt(p.offset));
    expect(listed).toEqual(expectListed);

    const cookie = truth.obHeaderCookie ?? null;
    const bodyOff = off(profile, '_OBJECT_HEADER', 'Body');
    const typeIndexTable = kb + BigInt(profile.symbol('ObTypeIndexTable'));
    const typeName = (idx: number): string => {
      const t = r.vq(cr3, typeIndexTable + BigInt(idx * 8));
      const name = t + BigInt(off(profile, '_OBJECT_TYPE', 'Name'));
      const len = r.va(cr3, name, 2).readUInt16LE(0);
      return utf16(r.va(cr3, r.vq(cr3, name + 8n), len));
    };
    const decodeType = (ohVa: bigint): string => {
      const stored = r.va(cr3, ohVa + BigInt(off(profile, '_OBJECT_HEADER', 'TypeIndex')), 1)[0] as number;
      return typeName(cookie === null ? stored : stored ^ cookie ^ Number((ohVa >> 8n) & 0xffn));
    };
    const procTag = Number(BigInt(truth.poolTags?.process ?? '0'));
    const eSize = profile.sizeOf('_EPROCESS');
    const poolPa = (p: GroundTruth['processes'][number]): number =>
      p.mapped === false
        ? Number(BigInt(p.physicalOffset) - (BigInt(p.offset) - BigInt(p.poolHeader ?? '0')))
        : (r.translate(cr3, BigInt(p.poolHeader ?? '0')) as number);
    const kernelFrames = r.kernelFrames(cr3, truth.selfRefIndex);
    const unmapped = truth.processes.filter((p) => p.mapped === false);
    expect(unmapped.length).toBeGreaterThan(0);
    for (const p of unmapped) {
      // Remnant in a page no kernel page table maps: checked physically; its TypeIndex decodes with the VA it had.
      const pa = Number(BigInt(p.physicalOffset));
      const ph = poolPa(p);
      expect(r.translate(cr3, BigInt(p.offset))).toBeNull();
      expect(kernelFrames.has(Math.floor(pa / 0x1000))).toBe(false);
      expect(p.planted).toEqual(expect.arrayContaining(['unmapped-remnant', 'exited']));
      expect(p.foundBy).toEqual({ pslist: false, psscan: true, thrdscan: false, cidtable: false, csrss: false, session: false });
      const e = r.pa(pa, eSize);
      expect(Math.floor(ph / 0x1000)).toBe(Math.floor((pa + eSize - 1) / 0x1000)); // whole block in one page
      expect(Number(e.readBigUInt64LE(off(profile, '_EPROCESS', 'UniqueProcessId')))).toBe(p.pid);
      const nameOff = off(profile, '_EPROCESS', 'ImageFileName');
      expect(e.toString('latin1', nameOff, nameOff + 15).replace(/\0.*$/s, '')).toBe(p.name);
      expect('0x' + e.readBigUInt64LE(off(profile, '_EPROCESS', 'Pcb.DirectoryTableBase')).toString(16)).toBe(p.dtb);
      expect(e.readBigUInt64LE(off(profile, '_EPROCESS', 'ExitTime'))).not.toBe(0n);
      expect(r.pa(ph + off(profile, '_POOL_HEADER', 'PoolTag'), 4).readUInt32LE(0)).toBe(procTag);
      const ohVa = BigInt(p.objectHeader ?? '0');
      const ohPa = pa - bodyOff;
      expect(BigInt(ohPa & 0xfff)).toBe(ohVa & 0xfffn); // the page offset is all a reader keeps of the VA
      const stored = r.pa(ohPa + off(profile, '_OBJECT_HEADER', 'TypeIndex'), 1)[0] as number;
      expect(typeName(cookie === null ? stored : stored ^ cookie ^ Number((ohVa >> 8n) & 0xffn))).toBe('Process');
    }
    for (const p of truth.processes.filter((x) => x.mapped !== false)) {
      const va = BigInt(p.offset);
      const e = r.va(cr3, va, eSize);
      expect(Number(e.readBigUInt64LE(off(profile, '_EPROCESS', 'UniqueProcessId')))).toBe(p.pid);
      expect(Number(e.readBigUInt64LE(off(profile, '_EPROCESS', 'InheritedFromUniqueProcessId')))).toBe(p.ppid);
      const nameOff = off(profile, '_EPROCESS', 'ImageFileName');
      expect(e.toString('latin1', nameOff, nameOff + 15).replace(/\0.*$/s, '')).toBe(p.name);
      expect('0x' + e.readBigUInt64LE(off(profile, '_EPROCESS', 'Pcb.DirectoryTableBase')).toString(16)).toBe(p.dtb);
      expect(r.translate(cr3, va)).toBe(Number(BigInt(p.physicalOffset)));
      const last = r.translate(cr3, va + BigInt(eSize - 1)) as number;
      const contiguous = last - Number(BigInt(p.physicalOffset)) === eSize - 1;
      expect(!contiguous).toBe(p.straddles);
      // Pool header, object header, TypeIndex decoded through ObHeaderCookie.
      const ph = BigInt(p.poolHeader ?? '0');
      const ohVa = BigInt(p.objectHeader ?? '0');
      expect(ohVa + BigInt(bodyOff)).toBe(va);
      const phRaw = r.va(cr3, ph, 16);
      expect(phRaw.readUInt32LE(off(profile, '_POOL_HEADER', 'PoolTag'))).toBe(procTag);
      const w = phRaw.readBigUInt64LE(0);
      // non-paged (2), or free (0) for the freed block whose EPROCESS is still intact
      expect(Number(bits(profile, '_POOL_HEADER', 'PoolType', w >> BigInt(8 * off(profile, '_POOL_HEADER', 'PoolType'))))).toBe(p.planted.includes('freed-pool-block') ? 0 : 2);
      const blockSize = Number(bits(profile, '_POOL_HEADER', 'BlockSize', w >> BigInt(8 * off(profile, '_POOL_HEADER', 'BlockSize'))));
      expect(blockSize * 16).toBeGreaterThanOrEqual(Number(va - ph) + eSize);
      expect(decodeType(ohVa)).toBe('Process');
      // Exit time matches.
      const exit = e.readBigUInt64LE(off(profile, '_EPROCESS', 'ExitTime'));
      expect(exit === 0n).toBe(p.exitTime === null);
      // Threads: linked through the EPROCESS thread list, each in a Thre pool block with its Cid.
      const tlh = va + BigInt(off(profile, '_EPROCESS', 'ThreadListHead'));
      const tle = off(profile, '_ETHREAD', 'ThreadListEntry');
      const threads: bigint[] = [];
      for (let t = r.vq(cr3, tlh); t !== tlh && threads.length < 1000; t = r.vq(cr3, t)) threads.push(t - BigInt(tle));
      expect(threads.length).toBe(p.threads);
      for (const t of threads) {
        expect(Number(r.vq(cr3, t + BigInt(off(profile, '_ETHREAD', 'Cid.UniqueProcess'))))).toBe(p.pid);
        expect(decodeType(t - BigInt(bodyOff))).toBe('Thread');
      }
      // PEB and process parameters through the process's own page tables (low DirBase bits masked).
      if (p.imagePath !== null) {
        const pdtb = BigInt(p.dtb) & ~0xfffn;
        expect(r.q(Number(pdtb) + truth.selfRefIndex * 8) & 0x000f_ffff_ffff_f000n).toBe(pdtb);
        const peb = e.readBigUInt64LE(off(profile, '_EPROCESS', 'Peb'));
        const params = r.vq(pdtb, peb + BigInt(off(profile, '_PEB', 'ProcessParameters')));
        const us = r.va(pdtb, params + BigInt(off(profile, '_RTL_USER_PROCESS_PARAMETERS', 'ImagePathName')), 16);
        expect(utf16(r.va(pdtb, us.readBigUInt64LE(8), us.readUInt16LE(0)))).toBe(p.imagePath);
        const cl = r.va(pdtb, params + BigInt(off(profile, '_RTL_USER_PROCESS_PARAMETERS', 'CommandLine')), 16);
        expect(utf16(r.va(pdtb, cl.readBigUInt64LE(8), cl.readUInt16LE(0)))).toBe(p.commandLine);
        // The process PML4 maps the kernel too.
        expect(r.translate(pdtb, kb)).toBe(r.translate(cr3, kb));
      }
    }

    // Handle tables: PspCidTable (-> bodies) and each csrss.exe's table (-> object headers).
    const hteSize = profile.sizeOf('_HANDLE_TABLE_ENTRY');
    const decodeEntry = (lo: bigint): bigint | null => {
      if (profile.hasField('_HANDLE_TABLE_ENTRY', 'ObjectPointerBits')) {
        const ptr = bits(profile, '_HANDLE_TABLE_ENTRY', 'ObjectPointerBits', lo) << 4n;
        return ptr === 0n ? null : ptr | 0xffff_0000_0000_0000n;
      }
      return lo === 0n ? null : lo & ~7n;
    };
    const walk = (tableVa: bigint): bigint[] => {
      const code = r.vq(cr3, tableVa + BigInt(off(profile, '_HANDLE_TABLE', 'TableCode')));
      const leaves = (code & 3n) === 0n ? [code] : Array.from({ length: 512 }, (_, i) => r.vq(cr3, (code & ~3n) + BigInt(8 * i))).filter((x) => x !== 0n);
      const out: bigint[] = [];
      for (const leaf of leaves) {
        for (let i = 0; i < 0x1000 / hteSize; i++) {
          const ptr = decodeEntry(r.vq(cr3, leaf + BigInt(i * hteSize)));
          if (ptr !== null) out.push(ptr);
        }
      }
      return out;
    };
    const cid = new Set(walk(r.vq(cr3, kb + BigInt(profile.symbol('PspCidTable')))));
    const csrssHeld = new Set<bigint>();
    for (const c of truth.processes.filter((p) => p.name === 'csrss.exe')) {
      const ot = r.vq(cr3, BigInt(c.offset) + BigInt(off(profile, '_EPROCESS', 'ObjectTable')));
      for (const oh of walk(ot)) {
        expect(decodeType(oh)).toBe('Process');
        csrssHeld.add(oh + BigInt(bodyOff));
      }
    }
    // Sessions: walk each session's process list.
    const inSession = new Set<bigint>();
    for (const p of truth.processes.filter((x) => x.foundBy.session)) {
      const s = r.vq(cr3, BigInt(p.offset) + BigInt(off(profile, '_EPROCESS', 'Session')));
      expect(Number(r.va(cr3, s + BigInt(off(profile, '_MM_SESSION_SPACE', 'SessionId')), 4).readUInt32LE(0))).toBe(p.sessionId);
      const h = s + BigInt(off(profile, '_MM_SESSION_SPACE', 'ProcessList'));
      let n = 0;
      for (let e = r.vq(cr3, h); e !== h && n++ < 5000; e = r.vq(cr3, e)) inSession.add(e - BigInt(off(profile, '_EPROCESS', 'SessionProcessLinks')));
    }
    for (const p of truth.processes) {
      const va = BigInt(p.offset);
      expect(cid.has(va)).toBe(p.foundBy.cidtable);
      expect(csrssHeld.has(va)).toBe(p.foundBy.csrss);
      expect(inSession.has(va)).toBe(p.foundBy.session);
    }

    // psscan ground truth: every aligned process pool tag in physical memory is a listed process or a decoy.
    if (!scan) return;
    const img = readFileSync(path);
    const tagOff = off(profile, '_POOL_HEADER', 'PoolTag');
    const known = new Set([
      ...truth.processes.map(poolPa),
      ...truth.decoys.map((d) => Number(BigInt(d.physicalOffset))),
    ]);
    const found: number[] = [];
    const needle = Buffer.alloc(4);
    needle.writeUInt32LE(procTag);
    for (let at = img.indexOf(needle); at >= 0; at = img.indexOf(needle, at + 1)) found.push(at - tagOff);
    for (const f of found) expect(known.has(f)).toBe(true);
    expect(found.length).toBe(truth.processes.length + truth.decoys.length);
    for (const d of truth.decoys) {
      const pa = Number(BigInt(d.physicalOffset));
      expect(r.pa(pa + tagOff, 4).readUInt32LE(0)).toBe(procTag);
      if (d.kind === 'unaligned-tag') expect(pa % 16).not.toBe(0);
      if (d.kind === 'wrong-object-type') {
        // in an unmapped page, and not a Process under any of the 16 values of VA bits 12..15
        expect(kernelFrames.has(Math.floor(pa / 0x1000))).toBe(false);
        const im = off(profile, '_OBJECT_HEADER', 'InfoMask');
        const ti = off(profile, '_OBJECT_HEADER', 'TypeIndex');
        const optNames = ['CREATOR_INFO', 'NAME_INFO', 'HANDLE_INFO', 'QUOTA_INFO', 'PROCESS_INFO', 'AUDIT_INFO'];
        const optSize = (mask: number) => optNames.reduce((a, n, i) => a + (mask & (1 << i) && profile.hasType(`_OBJECT_HEADER_${n}`) ? profile.sizeOf(`_OBJECT_HEADER_${n}`) : 0), 0);
        const processIndex = [2, 3, 4, 5, 6, 7, 8].find((i) => typeName(i) === 'Process');
        let headers = 0;
        for (let dOpt = 8; dOpt <= 0x100; dOpt += 8) {
          const oh = pa + 16 + dOpt;
          const mask = r.pa(oh + im, 1)[0] as number;
          if (mask === 0 || optSize(mask) !== dOpt) continue; // not where this InfoMask puts the header
          headers++;
          const stored = r.pa(oh + ti, 1)[0] as number;
          for (let hi = 0; hi < 16; hi++) {
            const idx = cookie === null ? stored : stored ^ cookie ^ ((oh >> 8) & 0xf) ^ (hi << 4);
            expect(idx, `decoy header at 0x${oh.toString(16)} with VA bits 12..15 = ${hi}`).not.toBe(processIndex);
          }
        }
        expect(headers).toBe(1);
      }
    }
  } finally {
    r.close();
  }
}

describe.skipIf(!HAVE_ISF)('sample image builder', () => {
  const builds: [string, number][] = [['17763', 11], ['18362', 12], ['19041', 13], ['22000', 14], ['7601', 15]];
  for (const [build, seed] of builds) {
    it(`build ${build}: an independent reader finds everything the truth says`, async () => {
      const out = join(dir, `s${build}.raw`);
      const truth = await buildSample({ build, format: 'raw', out, sizeMiB: 64, processes: 4, seed });
      const { profile } = await resolveSampleProfile(build);
      expect(truth.buildNumber).toBe(Number(build));
      expect(statSync(out).size).toBe(truth.sizeBytes);
      expect(JSON.parse(readFileSync(`${out}.truth.json`, 'utf8'))).toEqual(JSON.parse(JSON.stringify(truth)));
      const planted = truth.processes.flatMap((p) => p.planted);
      for (const k of ['dkom-unlinked', 'exited', 'remnant', 'freed-pool-block']) expect(planted).toContain(k);
      const freed = truth.processes.find((p) => p.planted.includes('freed-pool-block'))!;
      expect(freed.foundBy).toEqual({ pslist: false, psscan: true, thrdscan: false, cidtable: false, csrss: false, session: false });
      expect(freed.exitTime).not.toBeNull();
      expect(truth.processes.some((p) => p.straddles)).toBe(true);
      expect(truth.decoys.map((d) => d.kind)).toEqual(expect.arrayContaining(['freed-pool-block-reused', 'unaligned-tag', 'wrong-object-type']));
      if (truth.buildNumber >= 10240) {
        const lock = truth.processes.find((p) => p.name === 'LockApp.exe');
        expect(lock?.dtb.endsWith('002')).toBe(true);
        expect(truth.obHeaderCookie).not.toBeNull();
      }
      verify(out, truth, profile);
    }, 60_000);
  }

  it('is deterministic per seed and varies with it', async () => {
    const hash = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
    const a = join(dir, 'a.raw');
    const b = join(dir, 'b.raw');
    const c = join(dir, 'c.raw');
    await buildSample({ build: '19041', format: 'raw', out: a, sizeMiB: 64, seed: 5 });
    await buildSample({ build: '19041', format: 'raw', out: b, sizeMiB: 64, seed: 5 });
    const tc = await buildSample({ build: '19041', format: 'raw', out: c, sizeMiB: 64, seed: 6 });
    expect(hash(a)).toBe(hash(b));
    expect(readFileSync(`${a}.truth.json`, 'utf8')).toBe(readFileSync(`${b}.truth.json`, 'utf8'));
    expect(hash(a)).not.toBe(hash(c));
    expect(tc.kernelBase).not.toBe(JSON.parse(readFileSync(`${a}.truth.json`, 'utf8')).kernelBase);
  }, 60_000);

  it('honours self-ref index, kernel base, no low stub, and the seed DirBase page on a large image', async () => {
    const out = join(dir, 'big.raw');
    const truth = await buildSample({
      build: '19041', format: 'raw', out, sizeMiB: 1280, seed: 9, processes: 2,
      selfRefIndex: 0x1a3, kernelBase: 0xfffff8024ae00000n, lowStub: false,
    });
    expect(truth.selfRefIndex).toBe(0x1a3);
    expect(truth.kernelBase).toBe('0xfffff8024ae00000');
    expect(truth.lowStub).toBe(false);
    expect(truth.processes.find((p) => p.name === 'LockApp.exe')?.dtb).toBe('0x4e312002');
    const { profile } = await resolveSampleProfile('19041');
    verify(out, truth, profile, false);
  }, 120_000);

  it('writes ELF core and crash dump formats', async () => {
    for (const format of ['elf', 'crashdump', 'crashdump-bitmap'] as const) {
      const out = join(dir, `f.${format}`);
      const truth = await buildSample({ build: '19041', format, out, sizeMiB: 64, seed: 2 });
      expect(truth.format).toBe(format);
      const head = readFileSync(out).subarray(0, 8);
      expect(head.toString('latin1', 0, format === 'elf' ? 4 : 8)).toBe(format === 'elf' ? '\x7fELF' : 'PAGEDU64');
    }
  }, 60_000);

  it('rejects bad options with one clear error', async () => {
    const out = join(dir, 'bad.raw');
    await expect(buildSample({ build: '19041', format: 'raw', out, sizeMiB: 8 })).rejects.toThrow(/--size/);
    await expect(buildSample({ build: 'nonsense', format: 'raw', out })).rejects.toThrow(MemScopeError);
    await expect(buildSample({ build: '1234', format: 'raw', out, sizeMiB: 64 })).rejects.toThrow(/no kernel profile/);
    await expect(buildSample({ build: '19041', format: 'raw', out, sizeMiB: 64, selfRefIndex: 0x1f0 })).rejects.toThrow(/self-reference/);
    await expect(buildSample({ build: '19041', format: 'raw', out, sizeMiB: 64, kernelBase: 0xfffff80000001000n })).rejects.toThrow(/2 MiB/);
    await expect(buildSample({ build: '19041', format: 'zip' as 'raw', out })).rejects.toThrow(/--format/);
    // DirBase faults: only on a running process that exists, PCID bits only where no PCID is used
    await expect(buildSample({ build: '19041', format: 'raw', out, sizeMiB: 64, dirBaseFaults: { 'zero-dtb': 'nosuch.exe' } })).rejects.toThrow(/DirBase fault zero-dtb: no running process named nosuch\.exe/);
    await expect(buildSample({ build: '19041', format: 'raw', out, sizeMiB: 64, dirBaseFaults: { 'zero-dtb': 'System' } })).rejects.toThrow(/no running process named System/);
    await expect(buildSample({ build: '19041', format: 'raw', out, sizeMiB: 64, dirBaseFaults: { 'pcid-bits-without-pcid': 'lsass.exe' } })).rejects.toThrow(/needs a build before Windows 10 \(got 19041\)/);
    await expect(buildSample({ build: '19041', format: 'raw', out, sizeMiB: 64, dirBaseFaults: { 'zero-dtb': 'lsass.exe', 'no-self-reference': 'lsass.exe' } })).rejects.toThrow(/zero-dtb: no running process named lsass\.exe \(other than System and the other victims\)/);
    await expect(buildSample({ build: '19041', format: 'raw', out: join(dir, 'no', 'such', 'dir.raw'), sizeMiB: 64 })).rejects.toThrow(MemScopeError);
  }, 60_000);
});
