import { hex } from '../util/hex.js';
import { optionalHeaders, type ObjectPlanting } from './objects.js';
import { PAGE_SIZE } from './physmem.js';
import { filetimeToIso } from './plan.js';
import { POOL_TYPE_NONPAGED } from './pool.js';
import { StructBuf } from './struct-buf.js';
import type { TruthProcess } from './truth.js';

/**
 * An EPROCESS remnant in a physical page NO page table maps any more: the process exited, its pool
 * page went back to the free/standby lists, and the kernel VA mapping is gone, but the bytes (pool
 * header, optional headers, object header, EPROCESS with its ExitTime) are still in RAM. A physical
 * scan (Volatility 3's psscan) reports it; nothing that walks kernel structures can. The object
 * header's TypeIndex was encoded with the header VA the block HAD while mapped (Windows 10+:
 * stored = index ^ ObHeaderCookie ^ byte 1 of that VA), so a reader only knows VA bits 0..11 (the
 * page offset) and must try the 16 values of bits 12..15. The block lies inside one 4 KiB page.
 */
/** `ks` serves only to check that the VA chosen is unmapped now. */
export interface RemnantContext extends ObjectPlanting {
  readonly processTypeIndex: number;
  readonly infoMask: number;
  /** A kernel VA just past the pool the builder used: the remnant's old page lies above it. */
  readonly poolEndVa: bigint;
  /** PIDs and TIDs already handed out (the remnant's PID must not collide). */
  readonly takenIds: ReadonlySet<number>;
  readonly ppid: number;
  readonly sessionId: number;
  readonly sessionVa: bigint;
  /** FILETIME of boot: the remnant ran (and exited) shortly after. */
  readonly bootTime: bigint;
}

const DISPATCHER_PROCESS = 3; // KOBJECTS: ProcessObject
const TICKS_PER_MS = 10_000n;

export function plantUnmappedRemnant(c: RemnantContext, exe = 'oldtool.exe'): TruthProcess {
  const { profile, rng, mem, objects } = c;
  const phs = profile.sizeOf('_POOL_HEADER');
  const optLen = objects.optionalLength(c.infoMask);
  const ohOff = phs + optLen;
  const bodyOff = ohOff + profile.offsetOf('_OBJECT_HEADER', 'Body');
  const eprocSize = profile.sizeOf('_EPROCESS');
  const total = Math.ceil((bodyOff + eprocSize) / 16) * 16;
  if (total > PAGE_SIZE || total / 16 > 0xff) throw new RangeError(`EPROCESS pool block of ${total} bytes does not fit one small-pool page`);
  const at = 16 * rng.int(0, Math.floor((PAGE_SIZE - total) / 16)); // whole block inside the page
  const pa = mem.allocPage(); // a fresh frame: no page table maps it
  const oldPage = c.poolEndVa + BigInt(PAGE_SIZE * rng.int(1, 0xff));
  if (c.ks.translate(oldPage) !== null) throw new RangeError(`remnant's former VA ${hex(oldPage)} is still mapped`);
  const poolVa = oldPage + BigInt(at);
  const headerVa = poolVa + BigInt(ohOff);
  const bodyVa = poolVa + BigInt(bodyOff);

  let pid = 4 * rng.int(0x40, 0x3000);
  while (c.takenIds.has(pid)) pid += 4;
  const createTime = c.bootTime + BigInt(rng.int(60_000, 900_000)) * TICKS_PER_MS;
  const exitTime = createTime + BigInt(rng.int(500, 300_000)) * TICKS_PER_MS;
  // Its old PML4 frame (since reused / zeroed), still memory the machine holds: touched so even a
  // populated-only dump carries it (psscan's remnant rule wants the DirBase frame in the image).
  const dtbPfn = mem.allocPage() / PAGE_SIZE;
  mem.page(dtbPfn);
  const dtb = BigInt(dtbPfn * PAGE_SIZE);

  const bytes = new Uint8Array(total);
  const prev = at === 0 ? 0 : Math.min(0xff, rng.int(1, at / 16));
  new StructBuf(profile, '_POOL_HEADER', bytes)
    .set('PreviousSize', prev).set('PoolIndex', 0).set('BlockSize', total / 16)
    .set('PoolType', POOL_TYPE_NONPAGED).set('PoolTag', c.procTag);
  for (const h of optionalHeaders(profile)) {
    if (!(c.infoMask & h.bit)) continue;
    const off = ohOff - objects.optionalLength(c.infoMask & (h.bit | (h.bit - 1)));
    const sb = new StructBuf(profile, h.typeName, bytes, off);
    if (h.typeName.endsWith('CREATOR_INFO')) {
      if (sb.has('TypeList')) sb.emptyList('TypeList', poolVa + BigInt(off));
      sb.setIf('CreatorUniqueProcess', c.ppid);
    } else if (h.typeName.endsWith('QUOTA_INFO')) {
      sb.setIf('NonPagedPoolCharge', eprocSize);
    }
  }
  new StructBuf(profile, '_OBJECT_HEADER', bytes, ohOff)
    .set('PointerCount', 0).set('HandleCount', 0).set('InfoMask', c.infoMask)
    .set('TypeIndex', objects.encodeTypeIndex(c.processTypeIndex, headerVa));
  const e = new StructBuf(profile, '_EPROCESS', bytes, bodyOff);
  e.set('Pcb.Header.Type', DISPATCHER_PROCESS).set('Pcb.DirectoryTableBase', dtb);
  e.set('UniqueProcessId', pid).set('InheritedFromUniqueProcessId', c.ppid);
  e.set('CreateTime', createTime).set('ExitTime', exitTime);
  e.setBytes('ImageFileName', new TextEncoder().encode(exe.slice(0, 14)));
  e.setIf('ExitStatus', 0);
  e.setIf('Session', c.sessionVa);
  // Emptied lists, pointing at the EPROCESS's own (former) addresses.
  for (const l of ['ActiveProcessLinks', 'Pcb.ThreadListHead', 'ThreadListHead', 'SessionProcessLinks']) {
    if (e.has(l)) e.emptyList(l, bodyVa);
  }
  mem.write(pa + at, bytes);

  return {
    pid, ppid: c.ppid, name: exe.slice(0, 14), imagePath: null, commandLine: null,
    offset: hex(bodyVa),
    physicalOffset: hex(pa + at + bodyOff),
    dtb: hex(dtb), userDtb: null,
    createTime: filetimeToIso(createTime), exitTime: filetimeToIso(exitTime),
    threads: 0, sessionId: c.sessionId, wow64: false,
    foundBy: { pslist: false, psscan: true, thrdscan: false, cidtable: false, csrss: false, session: false },
    planted: ['unmapped-remnant', 'exited'],
    straddles: false,
    threadIds: [], threadOffsets: [],
    objectHeader: hex(headerVa), poolHeader: hex(poolVa), infoMask: c.infoMask,
    mapped: false,
  };
}
