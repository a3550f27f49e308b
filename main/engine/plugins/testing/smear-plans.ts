/**
 * Test helper: the smear plans for the fault injector (sources/fault-injecting.ts), computed on a
 * sample image's kernel — what a process exiting does to memory while a walk or a scan reads it.
 * Physical addresses only, so a plan computed on the image applies to any source of the same bytes
 * (the simulated live device too). The expected warnings are beside them.
 */
import type { GroundTruth } from '../../sample/index.js';
import type { FaultPlan } from '../../sources/fault-injecting.js';
import type { WindowsKernel } from '../../windows/kernel.js';
import { hex } from '../../util/hex.js';
import { collectPslist } from '../pslist/index.js';

/** Physical address of a kernel VA. */
export function paOf(kernel: WindowsKernel, va: bigint): number {
  const pa = kernel.kernel.translate(va).pa;
  if (pa === null) throw new Error(`${hex(va)} is not mapped`);
  return pa;
}

const u64 = (v: bigint): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, true);
  return b;
};

export interface ListSmear {
  readonly plan: FaultPlan;
  /** ActiveProcessLinks addresses in list order, before the exit. */
  readonly listed: bigint[];
  readonly a: bigint;
  readonly b: bigint;
  readonly c: bigint;
}

/** B exits mid-walk: RemoveEntryList(B) sets A.Flink = C and C.Blink = A once A's links were read (B keeps its stale links). */
export async function listSmear(kernel: WindowsKernel): Promise<ListSmear> {
  const linksOff = BigInt(kernel.profile.offsetOf('_EPROCESS', 'ActiveProcessLinks'));
  const listed = (await collectPslist(kernel)).rows.map((r) => BigInt(r.offset!) + linksOff);
  // A → B → C on three different pages: A's page is read (and cached) before B exits, C's after.
  const page = (va: bigint) => Math.floor(paOf(kernel, va) / 4096);
  const i = listed.findIndex((a, j) => j > 0 && j + 2 < listed.length && new Set([a, listed[j + 1]!, listed[j + 2]!].map(page)).size === 3);
  if (i <= 0) throw new Error('no three listed processes on three different pages');
  const [a, b, c] = [listed[i]!, listed[i + 1]!, listed[i + 2]!];
  const plan = { seed: 1, changes: [
    { pa: paOf(kernel, a), bytes: u64(c), after: { pa: paOf(kernel, a) } },
    { pa: paOf(kernel, c + 8n), bytes: u64(a), after: { pa: paOf(kernel, a) } },
  ] };
  return { plan, listed, a, b, c };
}

export const unlinkWarning = (s: { a: bigint; b: bigint; c: bigint }): string =>
  `PsActiveProcessHead: _EPROCESS.ActiveProcessLinks at ${hex(s.c)} no longer points back to ${hex(s.b)} (its Blink is ${hex(s.a)}): the list changed during the walk`;

export interface ExitSmear {
  readonly plan: FaultPlan;
  readonly headerPa: number;
  readonly victim: GroundTruth['processes'][number];
}

/** A process exits mid-scan: its pool block (header to the end of the page) is cleared once the scan read it. */
export function exitSmear(kernel: WindowsKernel, truth: GroundTruth): ExitSmear {
  const victim = truth.processes.find((p) => p.foundBy.pslist && p.foundBy.psscan && p.pid !== 4 && p.poolHeader !== undefined && !p.straddles);
  if (!victim) throw new Error('no linked, pool-scanned process to exit');
  const header = BigInt(victim.poolHeader!);
  const headerPa = paOf(kernel, header);
  const length = Number(BigInt(victim.offset) - header) + kernel.profile.sizeOf('_EPROCESS');
  const plan = { seed: 2, changes: [{ pa: headerPa, bytes: new Uint8Array(Math.min(length, 4096 - (headerPa % 4096))), after: { pa: headerPa } }] };
  return { plan, headerPa, victim };
}

export const exitWarning = (headerPa: number): string =>
  `_EPROCESS: _POOL_HEADER at PA ${hex(headerPa)} changed after the scan found its 'Proc' tag (the block was freed or reused while memory was read); the object is left out`;

/** The random fault families, seeded (torn pages, failed page reads, I/O errors, all at once). */
export const RANDOM_FAULTS: readonly (FaultPlan & { readonly name: string })[] = [
  { name: 'torn pages', seed: 11, tornPageRate: 0.05 },
  { name: 'failed page reads', seed: 12, failedPageRate: 0.05 },
  { name: 'I/O errors', seed: 13, ioErrorRate: 0.02 },
  { name: 'all at once', seed: 14, tornPageRate: 0.03, failedPageRate: 0.03, ioErrorRate: 0.01 },
];
