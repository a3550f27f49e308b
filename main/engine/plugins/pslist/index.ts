/**
 * pslist: the processes the kernel itself lists — PsActiveProcessHead → _EPROCESS.ActiveProcessLinks,
 * as Volatility's windows.pslist walks it. Rows stream as they are decoded (the first row does not
 * wait for the list's end). A cycle or a corrupt Flink ends the walk with a warning row-side, never a
 * spin; a process whose fields cannot all be read still yields a row naming what is missing.
 */
import type { WindowsKernel } from '../../windows/kernel.js';
import { readEprocess, type ProcessRow } from '../../windows/eprocess.js';
import { walkList } from '../../windows/list-walk.js';

export type { ProcessRow } from '../../windows/eprocess.js';

export type PsListEvent =
  | { readonly type: 'row'; readonly row: ProcessRow }
  | { readonly type: 'warning'; readonly message: string };

export interface PsListOptions {
  /** Most list entries followed (default 65536). */
  readonly maxEntries?: number;
  readonly signal?: AbortSignal;
}

/** Kernel VAs of every EPROCESS on the active process list, plus walk warnings. */
export function activeProcessAddresses(kernel: WindowsKernel, options: PsListOptions = {}): { addresses: bigint[]; warnings: string[] } {
  const head = kernel.symbolVa('PsActiveProcessHead');
  const linksOff = BigInt(kernel.profile.offsetOf('_EPROCESS', 'ActiveProcessLinks'));
  const it = walkList(kernel.kernel, head, 'PsActiveProcessHead', options.maxEntries);
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
  const it = walkList(kernel.kernel, head, 'PsActiveProcessHead', options.maxEntries);
  const ctx = { profile: kernel.profile, kernel: kernel.kernel, source: kernel.source };
  for (let i = 0; ; i++) {
    if (options.signal?.aborted) return;
    const n = it.next();
    if (n.done) {
      for (const message of n.value) yield { type: 'warning', message };
      return;
    }
    yield { type: 'row', row: readEprocess(ctx, n.value - linksOff) };
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
