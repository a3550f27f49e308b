import type { Profile } from '../profile/profile.js';
import { hex } from '../util/hex.js';
import { u64 } from './bytes.js';
import type { KernelImage } from './kernel-image.js';
import type { AddressSpace } from './paging.js';
import { PAGE_SIZE } from './physmem.js';
import { imageFileName } from './plan.js';
import { POOL_TYPE_NONPAGED, tagValue, type PoolArena } from './pool.js';
import { isAlive, type BuiltProcess } from './process-objects.js';
import type { Prng } from './prng.js';
import { writeAuditImageName } from './process-audit.js';

const DISPATCHER_PROCESS = 3; // KOBJECTS: ProcessObject
const DISPATCHER_THREAD = 6; // KOBJECTS: ThreadObject
const THREAD_STATE_WAITING = 5;
const STATUS_PENDING = 0x103;

export interface BodyContext {
  readonly profile: Profile;
  readonly rng: Prng;
  readonly arena: PoolArena;
  readonly kernel: KernelImage;
  readonly sessionVas: ReadonlyMap<number, bigint>;
  readonly objectTables: ReadonlyMap<BuiltProcess, bigint>;
}

/** EPROCESS and ETHREAD fields (links are written after the blocks land in memory). */
export function fillProcessBodies(c: BodyContext, built: readonly BuiltProcess[]): void {
  const { rng, arena, kernel } = c;
  for (const b of built) {
    const e = b.obj.body;
    const live = isAlive(b);
    e.set('Pcb.Header.Type', DISPATCHER_PROCESS);
    e.set('Pcb.DirectoryTableBase', b.dtb);
    e.setIf('Pcb.UserDirectoryTableBase', b.userDtb);
    e.set('UniqueProcessId', b.p.pid).set('InheritedFromUniqueProcessId', b.p.ppid);
    e.set('CreateTime', b.p.createTime).set('ExitTime', b.p.exitTime ?? 0n);
    e.setBytes('ImageFileName', new TextEncoder().encode(imageFileName(b.p.exe)));
    e.set('Peb', b.peb);
    e.set('ActiveThreads', b.p.threads.length);
    e.setIf('ExitStatus', live ? STATUS_PENDING : 0);
    if (b.p.session !== null) e.set('Session', c.sessionVas.get(b.p.session) ?? 0n);
    e.set('ObjectTable', c.objectTables.get(b) ?? 0n);
    if (b.p.wow64) {
      const w = arena.alloc(16, tagValue('PsWo'), POOL_TYPE_NONPAGED);
      e.setIf('WoW64Process', w.va + 16n) || e.setIf('Wow64Process', w.va + 16n);
    }
    writeAuditImageName(c.profile, arena, e, b.p);
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
      t.body.setIf('StartAddress', kernel.kva(0x1000 + rng.int(0x100, 0x8000) * 16));
      t.body.setIf('Win32StartAddress', b.peb === 0n ? kernel.kva(0x1000 + rng.int(0x100, 0x8000) * 16) : 0x7ff6_0000_0000n + BigInt(rng.int(0x1000, 0xffff) * 16));
    });
  }
}

/**
 * PsActiveProcessHead (live processes; a DKOM one cut out and self-linked, exited ones keeping stale
 * neighbours as RemoveEntryList leaves them), each process's two thread lists, each session's process
 * list, and PsInitialSystemProcess.
 */
export function linkProcessLists(profile: Profile, ks: AddressSpace, kernel: KernelImage, sessionVas: ReadonlyMap<number, bigint>, built: readonly BuiltProcess[]): void {
  const linkList = (head: bigint, nodes: bigint[]): void => {
    const ring = [head, ...nodes];
    ring.forEach((n, i) => {
      ks.writeU64(n, ring[(i + 1) % ring.length] as bigint);
      ks.writeU64(n + 8n, ring[(i - 1 + ring.length) % ring.length] as bigint);
    });
  };
  const field = (b: BuiltProcess, path: string) => b.obj.bodyVa + BigInt(b.obj.body.offsetOf(path));
  const activeHead = kernel.kva(profile.symbol('PsActiveProcessHead'));
  kernel.symbolsWritten['PsActiveProcessHead'] = hex(activeHead);
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
    const members = built.filter((b) => isAlive(b) && b.p.session === id);
    linkList(va + BigInt(profile.offsetOf('_MM_SESSION_SPACE', 'ProcessList')), members.map((b) => field(b, 'SessionProcessLinks')));
  }
  for (const b of built) if (!isAlive(b) || b.p.session === null) linkList(field(b, 'SessionProcessLinks'), []);
  const system = built[0];
  if (system && profile.hasSymbol('PsInitialSystemProcess')) kernel.writeSymbol('PsInitialSystemProcess', u64(system.obj.bodyVa));
}
