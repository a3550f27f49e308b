/**
 * pslist: the processes the kernel itself lists — PsActiveProcessHead → _EPROCESS.ActiveProcessLinks,
 * as Volatility's windows.pslist walks it. Rows stream as they are decoded (the first row does not
 * wait for the list's end). A cycle or a corrupt Flink ends the walk with a warning row-side, never a
 * spin; a process whose fields cannot all be read still yields a row naming what is missing. A list
 * that yields no sane process (empty, unreadable, or only garbage) is never a silent empty table: a
 * running Windows always lists System, so the walk ends with a warning saying the list is unusable.
 */
import type { WindowsKernel } from '../../windows/kernel.js';
import { eprocessInsanity, readEprocess, type ProcessRow } from '../../windows/eprocess.js';
import { walkList } from '../../windows/list-walk.js';
import { liveSystemNote } from '../../windows/system-process.js';
import { hex } from '../../util/hex.js';

export type { ProcessRow } from '../../windows/eprocess.js';

export type PsListEvent =
  | { readonly type: 'row'; readonly row: ProcessRow }
  | { readonly type: 'warning'; readonly message: string };

export interface PsListOptions {
  /** Most list entries followed (default 65536). */
  readonly maxEntries?: number;
  readonly signal?: AbortSignal;
}

/** What a walk of the active list found: entries followed, and how many decoded as sane processes. */
export interface ActiveListTally {
  readonly entries: number;
  readonly sane: number;
}

/**
 * Why PsActiveProcessHead is unusable in this image (its head pointing to itself, unreadable, a Flink
 * to nowhere, or only entries that are not processes), or null when the walk found a sane process.
 * Short, for psxview's verdicts: "PsActiveProcessHead at 0x… points to itself".
 */
export function activeListProblem(kernel: WindowsKernel, tally: ActiveListTally): string | null {
  if (tally.sane > 0) return null;
  const head = kernel.symbolVa('PsActiveProcessHead');
  if (tally.entries > 0) return `PsActiveProcessHead at ${hex(head)}: none of its ${tally.entries} entries is a sane process`;
  const r = kernel.kernel.read(head, 8);
  if (r.missing.length) return `PsActiveProcessHead at ${hex(head)} is not readable`;
  const flink = new DataView(r.data.buffer, r.data.byteOffset, 8).getBigUint64(0, true);
  if (flink === head) return `PsActiveProcessHead at ${hex(head)} points to itself`;
  return `PsActiveProcessHead at ${hex(head)}: its Flink ${hex(flink)} leads to no process`;
}

/** The warning for an unusable active list, with whether System is alive by other witnesses. */
export function activeListWarning(kernel: WindowsKernel, problem: string): string {
  const system = liveSystemNote(kernel);
  return system
    ? `pslist: ${problem}, yet ${system}: the active process list is unusable in this image`
    : `pslist: ${problem}; a running Windows always lists System there: the active process list is unusable in this image`;
}

/** Kernel VAs of every EPROCESS on the active process list, plus walk warnings. */
export function activeProcessAddresses(kernel: WindowsKernel, options: PsListOptions = {}): { addresses: bigint[]; warnings: string[] } {
  const head = kernel.symbolVa('PsActiveProcessHead');
  const linksOff = BigInt(kernel.profile.offsetOf('_EPROCESS', 'ActiveProcessLinks'));
  const it = walkList(kernel.kernel, head, 'PsActiveProcessHead', options.maxEntries, '_EPROCESS.ActiveProcessLinks');
  const addresses: bigint[] = [];
  for (;;) {
    const n = it.next();
    if (n.done) return { addresses, warnings: n.value };
    addresses.push(n.value - linksOff);
  }
}

/** Stream pslist rows (and walk warnings, after the rows they follow). */
export async function* pslist(kernel: WindowsKernel, options: PsListOptions = {}): AsyncGenerator<PsListEvent, void, undefined> {
  const head = kernel.symbolVa('PsActiveProcessHead');
  const linksOff = BigInt(kernel.profile.offsetOf('_EPROCESS', 'ActiveProcessLinks'));
  const it = walkList(kernel.kernel, head, 'PsActiveProcessHead', options.maxEntries, '_EPROCESS.ActiveProcessLinks');
  const ctx = { profile: kernel.profile, kernel: kernel.kernel, source: kernel.source };
  let sane = 0;
  for (let i = 0; ; i++) {
    if (options.signal?.aborted) return;
    const n = it.next();
    if (n.done) {
      for (const message of n.value) yield { type: 'warning', message };
      const problem = activeListProblem(kernel, { entries: i, sane });
      if (problem !== null) yield { type: 'warning', message: activeListWarning(kernel, problem) };
      return;
    }
    const row = readEprocess(ctx, n.value - linksOff);
    if (eprocessInsanity(row, kernel.source.size) === null) sane++;
    yield { type: 'row', row };
    if (i % 64 === 63) await new Promise((r) => setImmediate(r)); // let an abort land
  }
}

/** All pslist rows and warnings at once. */
export async function collectPslist(kernel: WindowsKernel, options: PsListOptions = {}): Promise<{ rows: ProcessRow[]; warnings: string[] }> {
  const rows: ProcessRow[] = [];
  const warnings: string[] = [];
  for await (const ev of pslist(kernel, options)) {
    if (ev.type === 'row') rows.push(ev.row);
    else warnings.push(ev.message);
  }
  return { rows, warnings };
}
