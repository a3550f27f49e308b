import type { Profile } from '../profile/profile.js';
import type { KernelObject } from './objects.js';
import type { AddressSpace } from './paging.js';
import { PAGE_SIZE } from './physmem.js';
import { POOL_TYPE_NONPAGED, tagValue, type PoolArena } from './pool.js';
import { isAlive, type BuiltProcess } from './process-objects.js';
import type { Prng } from './prng.js';
import { StructBuf } from './struct-buf.js';

/**
 * Handle tables as the executive keeps them: _HANDLE_TABLE (pool tag Obtb) whose TableCode points at
 * a page of _HANDLE_TABLE_ENTRY (level 0) or, low bits 1, at a page of pointers to such pages (level 1).
 * Handle h is entry h/4.
 */
export class HandleTableWriter {
  private readonly hteSize: number;
  readonly perPage: number;

  constructor(
    private readonly profile: Profile,
    private readonly ks: AddressSpace,
    private readonly arena: PoolArena,
  ) {
    this.hteSize = profile.sizeOf('_HANDLE_TABLE_ENTRY');
    this.perPage = PAGE_SIZE / this.hteSize;
  }

  /** One entry pointing at `target` with GrantedAccess `access`, in this build's encoding. */
  entry(target: bigint, access: number): Uint8Array {
    const { profile } = this;
    const e = new StructBuf(profile, '_HANDLE_TABLE_ENTRY', new Uint8Array(this.hteSize));
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
  }

  /** A _HANDLE_TABLE holding `entries` (handle -> encoded entry); returns its VA. */
  table(ownerPid: number, quotaProcess: bigint, entries: Map<number, Uint8Array>): bigint {
    const { profile, ks, arena, perPage, hteSize } = this;
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
  }
}

/** PspCidTable: every running process and thread by its CID, entries pointing at object bodies. */
export function writeCidTable(w: HandleTableWriter, built: readonly BuiltProcess[]): { va: bigint; level: number } {
  const cidEntries = new Map<number, Uint8Array>();
  for (const b of built.filter(isAlive)) {
    cidEntries.set(b.p.pid, w.entry(b.obj.bodyVa, 0));
    b.p.threads.forEach((t, i) => cidEntries.set(t.tid, w.entry((b.threads[i] as KernelObject).bodyVa, 0)));
  }
  const va = w.table(0, 0n, cidEntries);
  return { va, level: Math.max(...cidEntries.keys()) / 4 >= w.perPage ? 1 : 0 };
}

export interface ProcessHandleTables {
  /** EPROCESS.ObjectTable of each running process. */
  readonly objectTables: Map<BuiltProcess, bigint>;
  /** csrss pid -> pids of the processes it holds handles to (entries pointing at object headers). */
  readonly csrssHolders: Map<number, number[]>;
}

/** One handle table per running process; csrss.exe's holds a handle to every later process of its session. */
export function writeProcessHandleTables(w: HandleTableWriter, rng: Prng, built: readonly BuiltProcess[]): ProcessHandleTables {
  const csrssHolders = new Map<number, number[]>();
  const objectTables = new Map<BuiltProcess, bigint>();
  built.forEach((b, i) => {
    if (!isAlive(b)) return;
    const entries = new Map<number, Uint8Array>();
    if (b.p.exe === 'csrss.exe') {
      const held: number[] = [];
      let h = 4 * rng.int(0x20, 0x60);
      for (const other of built.slice(i + 1)) {
        if (!isAlive(other) || other.p.session !== b.p.session) continue;
        entries.set(h, w.entry(other.obj.headerVa, 0x1fffff));
        held.push(other.p.pid);
        h += 4 * rng.int(1, 6);
      }
      csrssHolders.set(b.p.pid, held);
    }
    objectTables.set(b, w.table(b.p.pid, b.obj.bodyVa, entries));
  });
  return { objectTables, csrssHolders };
}
