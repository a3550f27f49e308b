/**
 * Scan ALL physical memory for pool blocks by tag (with the scan function it is handed: the
 * session's, on its workers; in-process otherwise) and validate each hit as an executive object: the
 * hit's PA → kernel VA through the kernel page map, then pool header, optional headers and the
 * cookie-decoded _OBJECT_HEADER type (windows/pool-object.ts). Shared by psscan ('Proc') and
 * psxview's thread scan ('Thre').
 */
import { poolTagScan, type PoolTagHit } from '../../scan/index.js';
import { inProcessScan, type PhysicalScanFn } from '../../scan/scan-fn.js';
import type { WindowsKernel } from '../../windows/kernel.js';
import { KernelPageMap } from '../../windows/kernel-pages.js';
import { pml4FromDtb } from '../../translate/x64/mmu.js';
import { ObjectTypes } from '../../windows/object-header.js';
import { validatePoolObject, type PoolObject } from '../../windows/pool-object.js';
import { validateUnmappedPoolObject, type UnmappedPoolObject } from '../../windows/unmapped-pool-object.js';
import { hex } from '../../util/hex.js';

export interface PoolObjectWanted {
  /** Pool tag as Windows 10 writes it, e.g. 'Proc'; the protected-bit variant is scanned too. */
  readonly tag: string;
  /** _OBJECT_TYPE name, e.g. 'Process'. */
  readonly objectType: string;
  /** Body struct, e.g. '_EPROCESS'. */
  readonly structType: string;
}

export type PoolObjectEvent =
  | { readonly type: 'object'; readonly want: PoolObjectWanted; readonly object: PoolObject; readonly candidates: readonly PoolObject[]; readonly pa: number }
  /** A whole object in a physical page no kernel page table maps (VA unknown; candidates by header position). */
  | { readonly type: 'unmapped'; readonly want: PoolObjectWanted; readonly candidates: readonly UnmappedPoolObject[]; readonly pa: number }
  | { readonly type: 'rejected'; readonly want: PoolObjectWanted; readonly pa: number; readonly reason: string }
  | { readonly type: 'progress'; readonly bytesDone: number; readonly bytesTotal: number }
  | { readonly type: 'warning'; readonly message: string };

export interface PoolScanOptions {
  /** How to scan physical memory: the session's scan function; default in-process on the kernel's source. */
  readonly scan?: PhysicalScanFn;
  readonly signal?: AbortSignal;
  readonly chunkSize?: number;
}

/** Per-kernel caches (page map, object types), built once per kernel. */
const caches = new WeakMap<WindowsKernel, { pages: KernelPageMap; types: ObjectTypes }>();

export function kernelObjects(kernel: WindowsKernel): { pages: KernelPageMap; types: ObjectTypes } {
  let c = caches.get(kernel);
  if (!c) {
    c = {
      pages: KernelPageMap.build(kernel.source, pml4FromDtb(kernel.dtb)),
      types: new ObjectTypes(kernel.profile, kernel.kernel, (n) => kernel.symbolVa(n)),
    };
    // Kept only when built from readable memory: a read that failed once (a live device's page) must
    // not make every later scan of the session unusable; the next scan builds them again.
    if (c.pages.problems.length === 0 && !c.types.cookieUnreadable) caches.set(kernel, c);
  }
  return c;
}

function protectedVariant(tag: string): string {
  return tag.slice(0, 3) + String.fromCharCode(tag.charCodeAt(3) | 0x80);
}

export async function* scanPoolObjects(kernel: WindowsKernel, wanted: readonly PoolObjectWanted[], options: PoolScanOptions = {}): AsyncGenerator<PoolObjectEvent, void, undefined> {
  const byTag = new Map<string, PoolObjectWanted>();
  for (const w of wanted) {
    byTag.set(w.tag, w);
    byTag.set(protectedVariant(w.tag), w);
  }
  const spec = poolTagScan({ tags: [...byTag.keys()] });
  // The kernel page map (a walk of every kernel page table) is built at the first hit, not before
  // the scan: the workers are already reading memory while the main thread builds it.
  let objects: { pages: KernelPageMap; ctx: { profile: WindowsKernel['profile']; kernel: WindowsKernel['kernel']; types: ObjectTypes } } | null = null;
  const pending: PoolObjectEvent[] = [];
  const prepare = () => {
    if (objects) return objects;
    const { pages, types } = kernelObjects(kernel);
    for (const p of pages.problems) pending.push({ type: 'warning', message: p });
    if (types.cookieUnreadable) pending.push({ type: 'warning', message: `ObHeaderCookie at ${hex(kernel.symbolVa('ObHeaderCookie'))} is not readable: object types cannot be decoded` });
    objects = { pages, ctx: { profile: kernel.profile, kernel: kernel.kernel, types } };
    return objects;
  };
  const sizes = new Map(wanted.map((w) => [w, kernel.profile.sizeOf(w.structType)]));
  const scan = options.scan ?? inProcessScan(kernel.source);
  // All tags (e.g. psxview's Proc + Thre and their protected variants) in ONE pass over memory.
  const events = scan<PoolTagHit>(spec, { ...(options.signal ? { signal: options.signal } : {}), ...(options.chunkSize !== undefined ? { chunkSize: options.chunkSize } : {}) });
  for await (const ev of events) {
    if (ev.type === 'progress') { yield ev; continue; }
    if (ev.type === 'error') { yield { type: 'warning', message: ev.message }; continue; }
    const want = byTag.get(ev.hit.tag);
    if (!want) continue;
    const { pages, ctx } = prepare();
    while (pending.length > 0) yield pending.shift()!;
    const va = pages.vaOf(ev.hit.pa);
    if (va === null) {
      // a freed pool page no kernel table maps any more may still hold a whole object (a remnant)
      const u = validateUnmappedPoolObject({ ...ctx, source: kernel.source }, ev.hit.pa, want.objectType, sizes.get(want)!);
      if (u.ok) yield { type: 'unmapped', want, candidates: u.candidates, pa: ev.hit.pa };
      else yield rejectedOrChanged(kernel, want, ev.hit, `'${want.tag}' tag at PA ${hex(ev.hit.pa)} is in no kernel-mapped page and not a remnant: ${u.reason}`);
      continue;
    }
    const r = validatePoolObject(ctx, va, want.objectType, sizes.get(want)!);
    if (r.ok) yield { type: 'object', want, object: r.object, candidates: r.candidates, pa: ev.hit.pa };
    else yield rejectedOrChanged(kernel, want, ev.hit, r.reason);
  }
}

/**
 * A rejected hit, or a warning when its pool header does not read back as the scan found it: in live
 * memory the block was freed or reused between the scan's read and the validation's (a process
 * exiting mid-scan), or its page failed to read; a change to report, not a bad candidate. A saved
 * image never changes: there a rejected hit stays one.
 */
function rejectedOrChanged(kernel: WindowsKernel, want: PoolObjectWanted, hit: PoolTagHit, reason: string): PoolObjectEvent {
  const now = kernel.source.read(hit.pa, hit.header.length);
  const where = `${want.structType}: _POOL_HEADER at PA ${hex(hit.pa)}`;
  if (now.absent.length > 0) return { type: 'warning', message: `${where} could not be read again after the scan found its '${hit.tag}' tag; the object is left out` };
  if (now.data.every((b, i) => b === hit.header[i])) return { type: 'rejected', want, pa: hit.pa, reason };
  return { type: 'warning', message: `${where} changed after the scan found its '${hit.tag}' tag (the block was freed or reused while memory was read); the object is left out` };
}
