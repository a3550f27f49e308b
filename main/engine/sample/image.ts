import { usageError } from '../errors.js';
import { hex } from '../util/hex.js';
import type { Profile } from '../profile/profile.js';
import { ObjectFactory, infoMaskToOffsetTable, type KernelObject } from './objects.js';
import { AddressSpace, canonical } from './paging.js';
import { alignUp, buildDebugDirectory, buildPeHeader, fileOffsetOf, type PeSection } from './pe.js';
import { LARGE_PAGE_SIZE, PAGE_SIZE, SparsePhysicalMemory, type PhysicalRun } from './physmem.js';
import { filetimeFromMs, filetimeToIso, imageFileName, planProcesses, type PlannedProcess } from './plan.js';
import { POOL_TYPE_FREE, POOL_TYPE_NONPAGED, PoolArena, tagValue } from './pool.js';
import { Prng } from './prng.js';
import { plantUnmappedRemnant } from './remnant.js';
import { StructBuf } from './struct-buf.js';
import { STANDBY_MARKER, type GroundTruth, type TruthProcess } from './truth.js';

/** Options of the in-memory model (format/output handled by the caller). */
export interface ImageOptions {
  readonly sizeMiB: number;
  readonly processes: number;
  readonly seed: number;
  readonly lowStub: boolean;
  readonly selfRefIndex?: number;
  readonly kernelBase?: bigint;
}

export interface SampleImage {
  readonly mem: SparsePhysicalMemory;
  readonly truth: Omit<GroundTruth, 'format'>;
}

const KERNEL_VA_LO = 0xffff_f800_0000_0000n; // ntoskrnl's KASLR window (MemProcFS scans …f800…–…f803…)
const KERNEL_VA_HI = 0xffff_f804_0000_0000n;
const KERNEL_PML4_INDEX = Number((KERNEL_VA_LO >> 39n) & 0x1ffn); // 0x1f0
const DISPATCHER_PROCESS = 3; // KOBJECTS: ProcessObject
const DISPATCHER_THREAD = 6; // KOBJECTS: ThreadObject
const THREAD_STATE_WAITING = 5;
const STATUS_PENDING = 0x103;
/** Windows object type indices (stable since Windows 7): ObTypeIndexTable[7]=Process, [8]=Thread. */
const TYPE_NAMES = ['Type', 'Directory', 'SymbolicLink', 'Token', 'Job', 'Process', 'Thread'] as const;
const FIRST_TYPE_INDEX = 2;
const typeIndexOf = (name: (typeof TYPE_NAMES)[number]): number => FIRST_TYPE_INDEX + TYPE_NAMES.indexOf(name);

const utf16 = (s: string): Uint8Array => {
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) {
    out[2 * i] = s.charCodeAt(i) & 0xff;
    out[2 * i + 1] = s.charCodeAt(i) >> 8;
  }
  return out;
};
const u32 = (v: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
};
const u64 = (v: bigint): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
  return b;
};

/** Physical memory map: a hole below 1 MiB (legacy VGA/BIOS), one around 3–4 GiB (PCI) when the size reaches it, else one mid-way. */
export function physicalRuns(sizeMiB: number): PhysicalRun[] {
  const MiB = 0x10_0000;
  const size = sizeMiB * MiB;
  const low: PhysicalRun = { start: 0x1000, length: 0x9f000 - 0x1000 };
  if (size > 0xc000_0000) {
    return [low, { start: MiB, length: 0xc000_0000 - MiB }, { start: 0x1_0000_0000, length: size - 0xc000_0000 }];
  }
  const mid = Math.floor(size / 2 / (2 * MiB)) * 2 * MiB;
  return [low, { start: MiB, length: mid - MiB }, { start: mid + 2 * MiB, length: size - mid - 2 * MiB }];
}

/** Largest sample machine: 256 GiB of RAM (structures land all over it, so the top is populated too). */
export const MAX_SIZE_MIB = 256 * 1024;

export function buildImage(profile: Profile, buildNumber: number, version: string, opts: ImageOptions): SampleImage {
  if (!Number.isInteger(opts.sizeMiB) || opts.sizeMiB < 64 || opts.sizeMiB > MAX_SIZE_MIB) {
    throw usageError(`--size must be an integer number of MiB between 64 and ${MAX_SIZE_MIB} (got ${opts.sizeMiB})`);
  }
  if (!Number.isInteger(opts.processes) || opts.processes < 0 || opts.processes > 2000) {
    throw usageError(`--processes must be between 0 and 2000 (got ${opts.processes})`);
  }
  const rng = new Prng(opts.seed);
  const runs = physicalRuns(opts.sizeMiB);
  const mem = new SparsePhysicalMemory(runs, rng);
  const win10 = buildNumber >= 10240;
  const win8 = buildNumber >= 9200;

  // ---- Low stub page and the kernel PML4 (low, like the 0x1aa000-ish DirBase of System). ----
  const lowStubPa = opts.lowStub ? rng.int(1, 0x1f) * PAGE_SIZE : null;
  if (lowStubPa !== null) mem.reserve(lowStubPa);
  const ks = AddressSpace.create(mem, mem.allocPage(0x10_0000, 0x20_0000));

  // ---- PML4 slots: self-reference (randomised on Windows 10+), kernel image, pool, session space. ----
  const selfRef = opts.selfRefIndex ?? (win10 ? rng.int(0x100, 0x1fe) : 0x1ed);
  if (!Number.isInteger(selfRef) || selfRef < 0x100 || selfRef > 0x1fe || selfRef === KERNEL_PML4_INDEX) {
    throw usageError(`self-reference index must be 0x100–0x1fe and not 0x${KERNEL_PML4_INDEX.toString(16)} (got ${selfRef})`);
  }
  const freeSlot = (taken: number[]): number => {
    for (;;) {
      const i = rng.int(0x100, 0x1ef);
      if (!taken.includes(i)) return i;
    }
  };
  const poolSlot = freeSlot([selfRef, KERNEL_PML4_INDEX]);
  const sessionSlot = freeSlot([selfRef, KERNEL_PML4_INDEX, poolSlot]);
  ks.setSelfRef(selfRef);
  for (const s of [KERNEL_PML4_INDEX, poolSlot, sessionSlot]) ks.ensurePml4Slot(s);
  const slotVa = (slot: number): bigint => canonical(BigInt(slot) << 39n);

  // ---- ntoskrnl: KASLR base, 2 MiB pages, PE header + CodeView. ----
  const kernelBase = opts.kernelBase ?? KERNEL_VA_LO + BigInt(rng.int(0, 8191)) * BigInt(LARGE_PAGE_SIZE);
  if (kernelBase < KERNEL_VA_LO || kernelBase >= KERNEL_VA_HI || kernelBase % BigInt(LARGE_PAGE_SIZE) !== 0n) {
    throw usageError(`kernel base ${hex(kernelBase)} must be 2 MiB aligned inside 0xfffff80000000000–0xfffff803ffffffff`);
  }
  let maxRva = 0;
  for (const rva of Object.values(profile.data.symbols)) if (rva < 0x400_0000 && rva > maxRva) maxRva = rva;
  const sizeOfImage = alignUp(maxRva + 0x1000, PAGE_SIZE);
  for (let off = 0; off < sizeOfImage; off += LARGE_PAGE_SIZE) {
    ks.map2m(kernelBase + BigInt(off), mem.allocLargePage(), { writable: true, executable: true, global: true });
  }
  const kva = (rva: number): bigint => kernelBase + BigInt(rva);
  const symbolsWritten: Record<string, string> = {};
  const writeSymbol = (name: string, bytes: Uint8Array): bigint => {
    const va = kva(profile.symbol(name));
    ks.write(va, bytes);
    symbolsWritten[name] = hex(va);
    return va;
  };
  const sym = (name: string) => profile.symbol(name);
  const dataRvas = ['NtBuildNumber', 'PsActiveProcessHead', 'PspCidTable', 'ObTypeIndexTable', 'ObpInfoMaskToOffset', 'PsInitialSystemProcess']
    .filter((s) => profile.hasSymbol(s))
    .map(sym);
  const dataStart = Math.floor(Math.min(...dataRvas) / PAGE_SIZE) * PAGE_SIZE;
  const rdataStart = Math.max(0x2000, Math.floor((dataStart * 0.8) / PAGE_SIZE) * PAGE_SIZE);
  const dataEnd = Math.min(sizeOfImage - 0x2000, alignUp(Math.max(...dataRvas) + 0x1000, PAGE_SIZE));
  const sections: PeSection[] = [
    { name: '.text', rva: 0x1000, size: rdataStart - 0x1000, characteristics: 0x6800_0020 },
    { name: '.rdata', rva: rdataStart, size: dataStart - rdataStart, characteristics: 0x4800_0040 },
    { name: '.data', rva: dataStart, size: dataEnd - dataStart, characteristics: 0xc800_0040 },
    { name: 'INIT', rva: dataEnd, size: sizeOfImage - 0x1000 - dataEnd, characteristics: 0x6200_0020 },
    { name: '.reloc', rva: sizeOfImage - 0x1000, size: 0x1000, characteristics: 0x4200_0040 },
  ].filter((s) => s.size > 0);
  const [osMajor, osMinor] = win10 ? [10, 0] : buildNumber >= 9600 ? [6, 3] : buildNumber >= 9200 ? [6, 2] : [6, 1];
  const peSpec = {
    imageBase: kernelBase, sizeOfImage, entryPointRva: 0x1000 + rng.int(0x100, 0x1000) * 16,
    timeDateStamp: rng.nextU32(), checkSum: rng.nextU32(), osMajor, osMinor, sections,
    debugDirRva: rdataStart + rng.int(0, 0x40) * 16,
    pdbGuid: profile.pdb.guid, pdbAge: profile.pdb.age, pdbName: profile.pdb.name,
  };
  ks.write(kernelBase, buildPeHeader(peSpec));
  ks.write(kva(peSpec.debugDirRva), buildDebugDirectory(peSpec, (rva) => fileOffsetOf(sections, rva)));

  const nt = new Uint8Array(4);
  new DataView(nt.buffer).setUint32(0, (0xf000_0000 | buildNumber) >>> 0, true); // free build: 0xF000xxxx
  writeSymbol('NtBuildNumber', nt);
  const cookie = profile.hasSymbol('ObHeaderCookie') ? rng.int(1, 0xff) : null;
  if (cookie !== null) writeSymbol('ObHeaderCookie', Uint8Array.of(cookie));
  if (profile.hasSymbol('ObpInfoMaskToOffset')) writeSymbol('ObpInfoMaskToOffset', infoMaskToOffsetTable(profile));

  // ---- Pool and objects. ----
  const poolRegion = slotVa(poolSlot) + (BigInt(rng.int(0, 0x3f)) << 33n) + BigInt(rng.int(0, 0xff)) * BigInt(LARGE_PAGE_SIZE);
  const arena = new PoolArena(profile, ks, mem, rng, poolRegion);
  const objects = new ObjectFactory(profile, arena, cookie);
  const procTag = tagValue(win8 ? 'Proc' : 'Pro\u00e3'); // before Windows 8 the protected-pool bit is set
  const threTag = tagValue(win8 ? 'Thre' : 'Thr\u00e5');

  // Object types, so TypeIndex decodes through ObTypeIndexTable.
  let processTypeKey: bigint | null = null; // _OBJECT_TYPE.Key of Process holds the tag: a natural decoy
  const typeTable = new Uint8Array(8 * (FIRST_TYPE_INDEX + TYPE_NAMES.length));
  const ttv = new DataView(typeTable.buffer);
  ttv.setBigUint64(8, 0xbad0b0b0n, true); // index 1 is this marker on real systems
  TYPE_NAMES.forEach((name, i) => {
    const nameBytes = utf16(name);
    const o = objects.create({
      bodyType: '_OBJECT_TYPE', extraBytes: nameBytes.length + 2, typeIndex: typeIndexOf('Type'),
      tag: tagValue('ObjT'), poolType: POOL_TYPE_NONPAGED, infoMask: 0x03 & optionalMask(profile, 0x03),
      pointerCount: 2, handleCount: 0,
    });
    const nameVa = o.bodyVa + BigInt(profile.sizeOf('_OBJECT_TYPE'));
    o.block.bytes.set(nameBytes, o.bodyOffset + profile.sizeOf('_OBJECT_TYPE'));
    o.body.emptyList('TypeList', o.bodyVa)
      .set('Name.Length', nameBytes.length).set('Name.MaximumLength', nameBytes.length + 2).set('Name.Buffer', nameVa)
      .set('Index', FIRST_TYPE_INDEX + i);
    if (name === 'Process' && o.body.setIf('Key', procTag)) processTypeKey = o.bodyVa + BigInt(o.body.offsetOf('Key'));
    if (name === 'Thread') o.body.setIf('Key', threTag);
    ttv.setBigUint64(8 * (FIRST_TYPE_INDEX + i), o.bodyVa, true);
  });
  writeSymbol('ObTypeIndexTable', typeTable);

  // ---- Processes. ----
  const plan = planProcesses(rng, { buildNumber, extraProcesses: opts.processes });
  interface Built {
    p: PlannedProcess;
    obj: KernelObject;
    threads: KernelObject[];
    as: AddressSpace;
    dtb: bigint;
    userDtb: bigint;
    peb: bigint;
  }
  const built: Built[] = [];
  const eprocSize = profile.sizeOf('_EPROCESS');
  const infoMasks = [0x08, 0x08, 0x09, 0x0c, 0x00].map((m) => optionalMask(profile, m));
  for (const p of plan.processes) {
    const obj = objects.create({
      bodyType: '_EPROCESS', typeIndex: typeIndexOf('Process'), tag: procTag,
      poolType: p.kind === 'freed' ? POOL_TYPE_FREE : POOL_TYPE_NONPAGED,
      infoMask: rng.pick(infoMasks),
      ...(p.straddle ? { straddleBodyOffset: rng.int(0x100, eprocSize - 0x100) } : {}),
      pointerCount: p.kind === 'live' || p.kind === 'dkom' ? rng.int(16, 0x20000) : rng.int(1, 4),
      handleCount: p.kind === 'live' || p.kind === 'dkom' ? rng.int(1, 40) : 0,
      creatorPid: p.ppid,
    });
    const threads = p.threads.map(() =>
      objects.create({
        bodyType: '_ETHREAD', typeIndex: typeIndexOf('Thread'), tag: threTag, poolType: POOL_TYPE_NONPAGED,
        infoMask: rng.pick([0x08, 0x00].map((m) => optionalMask(profile, m))), pointerCount: rng.int(2, 64),
        handleCount: rng.int(0, 3), creatorPid: p.pid,
      }),
    );
    built.push({ p, obj, threads, as: ks, dtb: 0n, userDtb: 0n, peb: 0n });
  }
  const system = built[0];
  if (!system || system.p.pid !== 4) throw new RangeError('plan must start with System (pid 4)');

  // ---- Address spaces: own PML4 per process (kernel half shared), PEB + parameters in user space. ----
  const seedDtbPa = 0x4e31_2000; // the seed's LockApp.exe DirBase 0x4e312002, masked
  for (const b of built) {
    if (b === system) {
      b.dtb = BigInt(ks.pml4);
      continue;
    }
    const wantSeed = b.p.exe === 'LockApp.exe' && mem.isFree(seedDtbPa / PAGE_SIZE);
    if (wantSeed) mem.reserve(seedDtbPa);
    const as = AddressSpace.create(mem, wantSeed ? seedDtbPa : undefined);
    as.copyKernelHalf(ks);
    as.setSelfRef(selfRef);
    b.as = as;
    b.dtb = BigInt(as.pml4) | (b.p.kvaShadow ? 0x2n : 0n); // PCID-like low bits as Windows 10/11 show them
    if (b.p.exe !== 'Registry') b.peb = (BigInt(rng.int(0x10, 0xff)) << 32n) | (BigInt(rng.int(0, 0xfffff)) << 12n);
    if (b.p.hasPeb && b.peb !== 0n) writePeb(profile, rng, mem, as, b.p, b.peb, buildNumber, osMajor, osMinor);
    if (b.p.kvaShadow) {
      // KVA shadow: a second PML4 for user mode sharing the user tables; the kernel keeps it beside DirBase.
      const shadow = AddressSpace.create(mem);
      shadow.copyUserHalf(as);
      b.userDtb = BigInt(shadow.pml4) | 0x1n;
    }
  }

  // ---- Sessions (_MM_SESSION_SPACE, one per session id). ----
  const sessionVas = new Map<number, bigint>();
  const sessionSize = profile.sizeOf('_MM_SESSION_SPACE');
  let sessionCursor = slotVa(sessionSlot) + (BigInt(rng.int(0, 0xff)) << 30n);
  for (const id of [0, 1]) {
    const va = sessionCursor;
    for (let off = 0; off < sessionSize; off += PAGE_SIZE) ks.map4k(va + BigInt(off), mem.allocPage(), { writable: true });
    sessionCursor += BigInt(alignUp(sessionSize, PAGE_SIZE) + PAGE_SIZE * rng.int(1, 8));
    const s = new StructBuf(profile, '_MM_SESSION_SPACE', new Uint8Array(profile.offsetOf('_MM_SESSION_SPACE', 'ProcessList') + 16));
    s.set('ReferenceCount', 1).set('SessionId', id);
    ks.write(va, s.buf);
    sessionVas.set(id, va);
  }

  // ---- Handle tables: PspCidTable (entries -> object bodies) and per-process tables (-> object headers). ----
  const hteSize = profile.sizeOf('_HANDLE_TABLE_ENTRY');
  const perPage = PAGE_SIZE / hteSize;
  const encodedEntry = (target: bigint, access: number): Uint8Array => {
    const e = new StructBuf(profile, '_HANDLE_TABLE_ENTRY', new Uint8Array(hteSize));
    if (profile.hasField('_HANDLE_TABLE_ENTRY', 'ObjectPointerBits')) {
      // Windows 8.1+: 44 bits of a 16-byte-aligned 48-bit pointer above the Unlocked/RefCnt/Attributes bits.
      const f = profile.field('_HANDLE_TABLE_ENTRY', 'ObjectPointerBits');
      const bits = f.type.kind === 'bitfield' ? f.type.bitLength : 44;
      e.set('ObjectPointerBits', (target & 0xffff_ffff_ffffn) >> BigInt(48 - bits)).set('Unlocked', 1);
      e.setIf('GrantedAccessBits', access);
    } else {
      e.set('Object', target | 0x1n); // Windows 7: pointer with the lock bit (1 = unlocked)
      e.setIf('GrantedAccess', access);
    }
    return e.buf;
  };
  const handleTable = (ownerPid: number, quotaProcess: bigint, entries: Map<number, Uint8Array>): bigint => {
    const maxIndex = Math.max(0, ...[...entries.keys()].map((h) => h / 4));
    const pagesNeeded = Math.floor(maxIndex / perPage) + 1;
    const level = pagesNeeded > 1 ? 1 : 0;
    const leaves: bigint[] = [];
    for (let i = 0; i < pagesNeeded; i++) leaves.push(arena.allocPageVa());
    for (const [h, bytes] of entries) {
      const idx = h / 4;
      const leaf = leaves[Math.floor(idx / perPage)] as bigint;
      ks.write(leaf + BigInt((idx % perPage) * hteSize), bytes);
    }
    let tableCode = leaves[0] as bigint;
    if (level === 1) {
      const mid = arena.allocPageVa();
      leaves.forEach((l, i) => ks.writeU64(mid + BigInt(8 * i), l));
      tableCode = mid | 1n;
    }
    const block = arena.alloc(profile.sizeOf('_HANDLE_TABLE'), tagValue('Obtb'), POOL_TYPE_NONPAGED);
    const htVa = block.va + BigInt(profile.sizeOf('_POOL_HEADER'));
    const ht = new StructBuf(profile, '_HANDLE_TABLE', block.bytes, profile.sizeOf('_POOL_HEADER'));
    ht.set('TableCode', tableCode).set('NextHandleNeedingPool', pagesNeeded * perPage * 4);
    ht.setIf('QuotaProcess', quotaProcess);
    ht.setIf('UniqueProcessId', ownerPid);
    if (ht.has('HandleTableList')) ht.emptyList('HandleTableList', htVa);
    return htVa;
  };

  const alive = (b: Built) => b.p.kind === 'live' || b.p.kind === 'dkom';
  const cidEntries = new Map<number, Uint8Array>();
  for (const b of built.filter(alive)) {
    cidEntries.set(b.p.pid, encodedEntry(b.obj.bodyVa, 0));
    b.p.threads.forEach((t, i) => cidEntries.set(t.tid, encodedEntry((b.threads[i] as KernelObject).bodyVa, 0)));
  }
  const cidTableVa = handleTable(0, 0n, cidEntries);
  const cidLevel = Math.max(...cidEntries.keys()) / 4 >= perPage ? 1 : 0;

  const csrssHolders = new Map<number, number[]>(); // csrss pid -> pids it holds handles to
  const objectTables = new Map<Built, bigint>();
  built.forEach((b, i) => {
    if (!alive(b)) return;
    const entries = new Map<number, Uint8Array>();
    if (b.p.exe === 'csrss.exe') {
      const held: number[] = [];
      let h = 4 * rng.int(0x20, 0x60);
      for (const other of built.slice(i + 1)) {
        if (!alive(other) || other.p.session !== b.p.session) continue;
        entries.set(h, encodedEntry(other.obj.headerVa, 0x1fffff));
        held.push(other.p.pid);
        h += 4 * rng.int(1, 6);
      }
      csrssHolders.set(b.p.pid, held);
    }
    objectTables.set(b, handleTable(b.p.pid, b.obj.bodyVa, entries));
  });
  writeSymbol('PspCidTable', u64(cidTableVa));

  // ---- Fill EPROCESS / ETHREAD bodies (links are written after the blocks land in memory). ----
  for (const b of built) {
    const e = b.obj.body;
    const live = alive(b);
    e.set('Pcb.Header.Type', DISPATCHER_PROCESS);
    e.set('Pcb.DirectoryTableBase', b.dtb);
    e.setIf('Pcb.UserDirectoryTableBase', b.userDtb);
    e.set('UniqueProcessId', b.p.pid).set('InheritedFromUniqueProcessId', b.p.ppid);
    e.set('CreateTime', b.p.createTime).set('ExitTime', b.p.exitTime ?? 0n);
    e.setBytes('ImageFileName', new TextEncoder().encode(imageFileName(b.p.exe)));
    e.set('Peb', b.peb);
    e.set('ActiveThreads', b.p.threads.length);
    e.setIf('ExitStatus', live ? STATUS_PENDING : 0);
    if (b.p.session !== null) e.set('Session', sessionVas.get(b.p.session) ?? 0n);
    e.set('ObjectTable', objectTables.get(b) ?? 0n);
    if (b.p.wow64) {
      const w = arena.alloc(16, tagValue('PsWo'), POOL_TYPE_NONPAGED);
      e.setIf('WoW64Process', w.va + 16n) || e.setIf('Wow64Process', w.va + 16n);
    }
    b.threads.forEach((t, i) => {
      const pt = b.p.threads[i];
      if (!pt) return;
      t.body.set('Tcb.Header.Type', DISPATCHER_THREAD);
      t.body.setIf('Tcb.Process', b.obj.bodyVa);
      t.body.setIf('Tcb.ApcState.Process', b.obj.bodyVa);
      t.body.setIf('Tcb.State', THREAD_STATE_WAITING);
      if (b.peb !== 0n) t.body.setIf('Tcb.Teb', b.peb + BigInt(PAGE_SIZE * (2 + 2 * i)));
      t.body.set('Cid.UniqueProcess', b.p.pid).set('Cid.UniqueThread', pt.tid);
      t.body.set('CreateTime', pt.createTime);
      t.body.setIf('StartAddress', kva(0x1000 + rng.int(0x100, 0x8000) * 16));
      t.body.setIf('Win32StartAddress', b.peb === 0n ? kva(0x1000 + rng.int(0x100, 0x8000) * 16) : 0x7ff6_0000_0000n + BigInt(rng.int(0x1000, 0xffff) * 16));
    });
  }
  // A freed Proc block whose memory was reused: header intact, EPROCESS bytes overwritten. It must be
  // rejected (not a process), unlike the freed block above whose EPROCESS still validates.
  const reused = objects.create({
    bodyType: '_EPROCESS', typeIndex: typeIndexOf('Process'), tag: procTag, poolType: POOL_TYPE_FREE,
    infoMask: rng.pick(infoMasks), pointerCount: 0, handleCount: 0,
  });
  reused.block.bytes.set(rng.bytes(eprocSize), reused.bodyOffset);
  reused.body.set('UniqueProcessId', 4 * rng.int(0x40, 0x3000) + 2);
  reused.body.setBytes('ImageFileName', Uint8Array.of(0x01, ...rng.bytes(13)));
  arena.flush();

  // ---- Lists: PsActiveProcessHead, thread lists, session process lists. ----
  const linkList = (head: bigint, nodes: bigint[]): void => {
    const ring = [head, ...nodes];
    ring.forEach((n, i) => {
      ks.writeU64(n, ring[(i + 1) % ring.length] as bigint);
      ks.writeU64(n + 8n, ring[(i - 1 + ring.length) % ring.length] as bigint);
    });
  };
  const field = (b: Built, path: string) => b.obj.bodyVa + BigInt(b.obj.body.offsetOf(path));
  const activeHead = kva(sym('PsActiveProcessHead'));
  symbolsWritten['PsActiveProcessHead'] = hex(activeHead);
  const active = built.filter((b) => b.p.kind === 'live');
  linkList(activeHead, active.map((b) => field(b, 'ActiveProcessLinks')));
  for (const b of built) {
    if (b.p.kind === 'dkom') {
      // DKOM: the entry is cut out and pointed at itself, so a list walk never reaches it.
      linkList(field(b, 'ActiveProcessLinks'), []);
    } else if (b.p.kind !== 'live') {
      // Removed from the list when it exited: RemoveEntryList leaves its old neighbours behind.
      const idx = built.indexOf(b);
      const prev = [...built.slice(0, idx)].reverse().find((x) => x.p.kind === 'live');
      const next = built.slice(idx + 1).find((x) => x.p.kind === 'live');
      ks.writeU64(field(b, 'ActiveProcessLinks'), next ? field(next, 'ActiveProcessLinks') : activeHead);
      ks.writeU64(field(b, 'ActiveProcessLinks') + 8n, prev ? field(prev, 'ActiveProcessLinks') : activeHead);
    }
    linkList(field(b, 'Pcb.ThreadListHead'), b.threads.map((t) => t.bodyVa + BigInt(t.body.offsetOf('Tcb.ThreadListEntry'))));
    linkList(field(b, 'ThreadListHead'), b.threads.map((t) => t.bodyVa + BigInt(t.body.offsetOf('ThreadListEntry'))));
  }
  for (const [id, va] of sessionVas) {
    const members = built.filter((b) => alive(b) && b.p.session === id);
    linkList(va + BigInt(profile.offsetOf('_MM_SESSION_SPACE', 'ProcessList')), members.map((b) => field(b, 'SessionProcessLinks')));
  }
  for (const b of built) if (!alive(b) || b.p.session === null) linkList(field(b, 'SessionProcessLinks'), []);
  if (profile.hasSymbol('PsInitialSystemProcess')) writeSymbol('PsInitialSystemProcess', u64(system.obj.bodyVa));

  // ---- Decoys: `Proc` where no pool is. ----
  const decoys: { physicalOffset: string; why: string; kind?: string }[] = [];
  {
    const pa = mem.allocPage();
    const junk = rng.bytes(PAGE_SIZE);
    const off = 16 * rng.int(4, 200) + 6; // not 16-byte aligned: cannot be a pool header's tag
    junk.set(u32(procTag), off);
    mem.write(pa, junk);
    decoys.push({ physicalOffset: hex(pa + off - 4), why: 'process pool tag bytes inside random data, not on a 16-byte pool boundary', kind: 'unaligned-tag' });
  }
  {
    // A well-formed-looking pool block in a page no page table maps, whose object type is not Process
    // whichever address bits 12–15 a reader assumes for the header.
    const pa = mem.allocPage();
    const optLen = objects.optionalLength(0x08 & optionalMask(profile, 0x08));
    const phs = profile.sizeOf('_POOL_HEADER');
    const ohOff = phs + optLen;
    const total = alignUp(ohOff + profile.offsetOf('_OBJECT_HEADER', 'Body') + eprocSize, 16);
    const at = 16 * rng.int(0, Math.floor((PAGE_SIZE - total) / 16));
    const bytes = new Uint8Array(total);
    new StructBuf(profile, '_POOL_HEADER', bytes).set('BlockSize', total / 16).set('PoolType', POOL_TYPE_NONPAGED).set('PoolTag', procTag);
    const lowNibble = ((pa + at + ohOff) >> 8) & 0xf;
    let stored = rng.int(0, 0xff);
    while ([typeIndexOf('Process'), typeIndexOf('Thread')].some((t) => ((stored ^ (cookie ?? 0) ^ lowNibble) & 0xf) === (t & 0xf))) stored = (stored + 1) & 0xff;
    const oh = new StructBuf(profile, '_OBJECT_HEADER', bytes, ohOff);
    oh.set('PointerCount', 1).set('InfoMask', 0x08 & optionalMask(profile, 0x08)).set('TypeIndex', cookie === null ? typeIndexOf('Token') : stored);
    const body = new StructBuf(profile, '_EPROCESS', bytes, ohOff + profile.offsetOf('_OBJECT_HEADER', 'Body'));
    body.set('UniqueProcessId', 4 * rng.int(100, 2000)).setBytes('ImageFileName', new TextEncoder().encode('decoy.exe'));
    mem.write(pa + at, bytes);
    decoys.push({ physicalOffset: hex(pa + at), why: 'Proc pool header in memory no kernel page table maps; its object type is not Process', kind: 'wrong-object-type' });
  }
  if (processTypeKey !== null) {
    const pa = ks.translate(processTypeKey);
    if (pa === null) throw new RangeError('Process type object not mapped');
    decoys.push({ physicalOffset: hex(pa - profile.offsetOf('_POOL_HEADER', 'PoolTag')), why: "the Process _OBJECT_TYPE's Key field holds the pool tag; no pool header there", kind: 'object-type-key' });
  }
  {
    const pa = ks.translate(reused.block.va);
    if (pa === null) throw new RangeError('reused freed block not mapped');
    decoys.push({ physicalOffset: hex(pa), why: 'freed pool block (PoolType 0) whose EPROCESS bytes were overwritten: not a process', kind: 'freed-pool-block-reused' });
  }

  // ---- Low stub: PROCESSOR_START_BLOCK (x64 HAL) in the first MiB. ----
  if (lowStubPa !== null) {
    const psb = new Uint8Array(PAGE_SIZE);
    const dv = new DataView(psb.buffer);
    // Jmp (FAR_JMP_16: E9 + offset) then CompletionFlag = 1: qword & 0xffffffffffff00ff == 0x00000001000600E9
    dv.setBigUint64(0, 0x0000_0001_0006_00e9n | (BigInt(rng.int(0, 0xff)) << 8n), true);
    dv.setBigUint64(0x70, kva(0x1000 + rng.int(0x100, 0x8000) * 16), true); // LmTarget: kernel code
    dv.setBigUint64(0x78, canonical(slotVa(poolSlot) - 0x1000n) + BigInt(lowStubPa % PAGE_SIZE), true); // SelfMap
    dv.setBigUint64(0xa0, BigInt(ks.pml4), true); // ProcessorState.SpecialRegisters.Cr3
    mem.write(lowStubPa, psb);
  }

  // ---- An EPROCESS remnant in a physical page no page table maps (only a physical scan sees it). ----
  const explorer = built.find((b) => b.p.exe === 'explorer.exe');
  const remnant = plantUnmappedRemnant({
    profile, rng, mem, ks, objects, procTag, processTypeIndex: typeIndexOf('Process'),
    infoMask: rng.pick(infoMasks),
    poolEndVa: arena.pages[arena.pages.length - 1] ?? poolRegion,
    takenIds: new Set(built.flatMap((b) => [b.p.pid, ...b.p.threads.map((t) => t.tid)])),
    ppid: explorer?.p.pid ?? system.p.pid, sessionId: 1, sessionVa: sessionVas.get(1) ?? 0n,
    bootTime: plan.bootTime,
  });

  // ---- Kernel working set in 4 KiB pages (paged pool, system cache views): RAM/512 bytes of kernel
  // VA whose frames are scattered over all of RAM, as on a machine that has run for a while. Their
  // contents are left zero (not stored), so a populated-only image stays small. ----
  const poolWindow = (poolRegion - slotVa(poolSlot)) >> 33n;
  const workingSetVa = slotVa(poolSlot) + ((poolWindow ^ 2n) << 33n);
  const workingSetPages = Math.floor(mem.totalBytes / 512 / PAGE_SIZE);
  for (let i = 0; i < workingSetPages; i++) ks.map4k(workingSetVa + BigInt(i * PAGE_SIZE), mem.allocPage(), { writable: true });

  // ---- Paged pool trimmed from the working set: kernel PTEs in Windows' software formats. ----
  // A trimmed page whose frame still holds its data sits behind a transition PTE (a walker must
  // resolve it); others were written to the page file, are demand-zero or prototype (no frame).
  let swVa = slotVa(poolSlot) + ((poolWindow ^ 1n) << 33n) + BigInt(rng.int(0, 0xff)) * BigInt(LARGE_PAGE_SIZE);
  const softwarePtes: NonNullable<GroundTruth['kernelSoftwarePtes']>[number][] = [];
  for (const kind of ['transition', 'transition', 'transition', 'prototype', 'transition', 'pagefile', 'transition', 'demand-zero', 'transition'] as const) {
    swVa += BigInt(PAGE_SIZE * rng.int(1, 3));
    let pa: number | null = null;
    let raw: bigint;
    if (kind === 'transition') {
      pa = mem.allocPage();
      const page = new Uint8Array(PAGE_SIZE);
      const dv = new DataView(page.buffer);
      for (let off = 0; off < PAGE_SIZE; off += 4) dv.setUint32(off, rng.nextU32(), true);
      page.set(new TextEncoder().encode(`${STANDBY_MARKER} ${hex(swVa)}`));
      mem.write(pa, page);
      raw = ks.mapSoftware(swVa, { kind, pa });
    } else if (kind === 'prototype') {
      raw = ks.mapSoftware(swVa, { kind, protoAddress: slotVa(poolSlot) + BigInt(rng.int(0, 0xffffff)) * 8n });
    } else if (kind === 'pagefile') {
      raw = ks.mapSoftware(swVa, { kind, pageFileOffset: rng.int(1, 0xfffff) });
    } else {
      raw = ks.mapSoftware(swVa, { kind });
    }
    softwarePtes.push({ va: hex(swVa), kind, pte: hex(raw), pa: pa === null ? null : hex(pa) });
  }

  // ---- KUSER_SHARED_DATA (x64: VA 0xfffff78000000000) with the capture time, and KeBootTime. Last, so
  // every earlier random draw (and so every existing seed's layout) is unchanged. ----
  // The image is taken after the last exit, the unmapped remnant's included (it exits up to 20 min after boot).
  const lastExit = remnant.exitTime === null ? 0n : filetimeFromMs(Date.parse(remnant.exitTime) + 60_000);
  const captureTime = plan.captureTime > lastExit ? plan.captureTime : lastExit;
  const kusd = writeSharedUserData(profile, mem, ks, built.map((b) => b.as), selfRef, plan.bootTime, captureTime);
  if (profile.hasSymbol('KeBootTime')) writeSymbol('KeBootTime', u64(plan.bootTime));

  // ---- Ground truth. ----
  // A freed block's EPROCESS that still validates is a remnant psscan reports (as Volatility 3's does).
  const processes: TruthProcess[] = built
    .map((b) => {
      const pa = ks.translate(b.obj.bodyVa);
      if (pa === null) throw new RangeError('EPROCESS not mapped');
      const live = alive(b);
      const inCsrss = [...csrssHolders.values()].some((held) => held.includes(b.p.pid));
      const eEnd = b.obj.bodyVa + BigInt(eprocSize - 1);
      return {
        pid: b.p.pid,
        ppid: b.p.ppid,
        name: imageFileName(b.p.exe),
        imagePath: b.p.hasPeb && b.peb !== 0n ? b.p.imagePath : null,
        commandLine: b.p.hasPeb && b.peb !== 0n ? b.p.commandLine : null,
        offset: hex(b.obj.bodyVa),
        physicalOffset: hex(pa),
        dtb: hex(b.dtb),
        userDtb: b.userDtb === 0n ? null : hex(b.userDtb),
        createTime: filetimeToIso(b.p.createTime),
        exitTime: b.p.exitTime === null ? null : filetimeToIso(b.p.exitTime),
        threads: b.p.threads.length,
        sessionId: b.p.session,
        wow64: b.p.wow64,
        foundBy: {
          pslist: b.p.kind === 'live',
          psscan: true,
          thrdscan: live && b.p.threads.length > 0,
          cidtable: live,
          csrss: inCsrss,
          session: live && b.p.session !== null,
        },
        planted: b.p.planted.length ? b.p.planted : b.dtb & 0xfffn ? ['pcid-dtb'] : ['normal'],
        straddles: (b.obj.bodyVa >> 12n) !== (eEnd >> 12n),
        threadIds: b.p.threads.map((t) => t.tid),
        threadOffsets: b.threads.map((t) => hex(t.bodyVa)),
        objectHeader: hex(b.obj.headerVa),
        poolHeader: hex(b.obj.block.va),
        infoMask: b.obj.infoMask,
      };
    });
  processes.push(remnant);

  return {
    mem,
    truth: {
      build: version,
      buildNumber,
      pdb: { name: profile.pdb.name, guid: profile.pdb.guid, age: profile.pdb.age },
      seed: opts.seed,
      sizeBytes: mem.endAddress,
      runs: runs.map((r) => ({ start: hex(r.start), length: hex(r.length) })),
      kernelBase: hex(kernelBase),
      kernelSize: hex(sizeOfImage),
      dtb: hex(system.dtb),
      pml4: hex(ks.pml4),
      selfRefIndex: selfRef,
      lowStub: lowStubPa !== null,
      lowStubPa: lowStubPa === null ? null : hex(lowStubPa),
      symbols: symbolsWritten,
      obHeaderCookie: cookie,
      cidTableLevel: cidLevel,
      poolTags: { process: hex(procTag), thread: hex(threTag) },
      processes,
      ...(kusd ? { captureTime: filetimeToIso(captureTime), bootTime: filetimeToIso(plan.bootTime) } : {}),
      decoys,
      kernelSoftwarePtes: softwarePtes,
    },
  };
}

/** x64 KUSER_SHARED_DATA and the PML4 slot that maps it (0x1ef). */
const KUSER_SHARED_DATA_VA = 0xffff_f780_0000_0000n;
const KUSD_PML4_INDEX = Number((KUSER_SHARED_DATA_VA >> 39n) & 0x1ffn);

/**
 * Map one page at KUSER_SHARED_DATA and write its clocks: SystemTime = capture, InterruptTime =
 * capture − boot (_KSYSTEM_TIME with High1Time = High2Time: a consistent copy). Every process's PML4
 * gets the same kernel-half entry, as on Windows. Skipped (false) when the slot is taken by the
 * self-reference or the VA is already in use (a seed whose random layout landed there).
 */
function writeSharedUserData(profile: Profile, mem: SparsePhysicalMemory, ks: AddressSpace, spaces: readonly AddressSpace[], selfRef: number, boot: bigint, capture: bigint): boolean {
  if (selfRef === KUSD_PML4_INDEX || ks.translate(KUSER_SHARED_DATA_VA) !== null || !profile.hasType('_KUSER_SHARED_DATA')) return false;
  const hadSlot = (ks.readEntry(ks.pml4, KUSD_PML4_INDEX) & 1n) === 1n;
  ks.map4k(KUSER_SHARED_DATA_VA, mem.allocPage(), { writable: false });
  if (!hadSlot) for (const as of spaces) if (as !== ks) as.writeEntry(as.pml4, KUSD_PML4_INDEX, ks.readEntry(ks.pml4, KUSD_PML4_INDEX));
  const page = new StructBuf(profile, '_KUSER_SHARED_DATA', new Uint8Array(profile.sizeOf('_KUSER_SHARED_DATA')));
  const ksystem = (field: string, v: bigint) => {
    page.set(`${field}.LowPart`, Number(v & 0xffff_ffffn));
    page.set(`${field}.High1Time`, Number(v >> 32n));
    page.set(`${field}.High2Time`, Number(v >> 32n));
  };
  ksystem('SystemTime', capture);
  ksystem('InterruptTime', capture - boot);
  ks.write(KUSER_SHARED_DATA_VA, page.buf);
  return true;
}

/** Keep only the InfoMask bits whose optional header type exists in this build's profile. */
function optionalMask(profile: Profile, mask: number): number {
  const names = ['CREATOR_INFO', 'NAME_INFO', 'HANDLE_INFO', 'QUOTA_INFO'];
  let m = 0;
  names.forEach((n, i) => {
    if (mask & (1 << i) && profile.hasType(`_OBJECT_HEADER_${n}`)) m |= 1 << i;
  });
  return m;
}

function writePeb(
  profile: Profile, rng: Prng, mem: SparsePhysicalMemory, as: AddressSpace, p: PlannedProcess,
  pebVa: bigint, buildNumber: number, osMajor: number, osMinor: number,
): void {
  const imagePath = utf16(p.imagePath ?? '');
  const cmd = utf16(p.commandLine ?? '');
  const paramsSize = profile.sizeOf('_RTL_USER_PROCESS_PARAMETERS');
  // Normalised parameters: the strings follow the structure in the same allocation.
  const total = alignUp(paramsSize + imagePath.length + 2 + cmd.length + 2, 16);
  const paramsVa = (BigInt(rng.int(0x100, 0x2ff)) << 32n) | (BigInt(rng.int(0, 0xffff)) << 16n);
  for (let off = 0; off < total; off += PAGE_SIZE) as.map4k(paramsVa + BigInt(off), mem.allocPage(), { user: true });
  as.map4k(pebVa, mem.allocPage(), { user: true });
  const params = new Uint8Array(total);
  const rp = new StructBuf(profile, '_RTL_USER_PROCESS_PARAMETERS', params);
  const ipVa = paramsVa + BigInt(paramsSize);
  const cmdVa = ipVa + BigInt(imagePath.length + 2);
  rp.set('MaximumLength', total).set('Length', total).set('Flags', 1); // RTL_USER_PROC_PARAMS_NORMALIZED
  rp.set('ImagePathName.Length', imagePath.length).set('ImagePathName.MaximumLength', imagePath.length + 2).set('ImagePathName.Buffer', ipVa);
  rp.set('CommandLine.Length', cmd.length).set('CommandLine.MaximumLength', cmd.length + 2).set('CommandLine.Buffer', cmdVa);
  params.set(imagePath, paramsSize);
  params.set(cmd, paramsSize + imagePath.length + 2);
  as.write(paramsVa, params);
  const peb = new StructBuf(profile, '_PEB', new Uint8Array(profile.sizeOf('_PEB')));
  peb.set('ImageBaseAddress', 0x7ff6_0000_0000n + (BigInt(rng.int(0, 0xffff)) << 16n));
  peb.set('ProcessParameters', paramsVa);
  peb.setIf('OSMajorVersion', osMajor);
  peb.setIf('OSMinorVersion', osMinor);
  peb.setIf('OSBuildNumber', buildNumber);
  if (p.session !== null) peb.setIf('SessionId', p.session);
  as.write(pebVa, peb.buf);
}
