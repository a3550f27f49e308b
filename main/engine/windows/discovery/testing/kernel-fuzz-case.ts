/**
 * One case of the kernel fuzz (../kernel.fuzz.test.ts), run in a FuzzChild: discovery with its
 * whole-memory DTB scans enabled (in-process), then pslist and psscan, on the sample image with the
 * case's patches laid over it. A MemScopeError of a stage is an accepted outcome, returned as data;
 * any other exception propagates and is a failure.
 */
import { MemScopeError } from '../../../errors.js';
import { collectPslist } from '../../../plugins/pslist/index.js';
import { collectPsscan } from '../../../plugins/psscan/index.js';
import { profileProviders } from '../../../session/profile-providers.js';
import { openSource } from '../../../sources/detect.js';
import type { PhysicalSource, SourceHints } from '../../../sources/physical-source.js';
import { type Patch, PatchedSource } from './corrupt-sample.js';
import { discoverKernel } from '../discover.js';

export interface KernelCase {
  readonly image: string;
  readonly name: string;
  readonly patches: readonly Patch[];
  readonly hints?: SourceHints;
}

export interface StageResult {
  readonly rows: number;
  readonly warnings: readonly string[];
}

export interface KernelCaseResult {
  /** null when discovery ended in a MemScopeError (its message in `errors`). */
  readonly dtbMethod: string | null;
  /** Discovery ran its whole-memory DTB scans (the cheap methods found nothing that validated). */
  readonly scanned: boolean;
  readonly pslist: StageResult | null;
  readonly psscan: StageResult | null;
  readonly errors: readonly string[];
}

let base: { path: string; source: PhysicalSource } | null = null;
const store = profileProviders();

async function stage<T>(errors: string[], what: string, fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof MemScopeError)) throw e;
    errors.push(`${what}: ${e.message}`);
    return null;
  }
}

export async function runCase(c: KernelCase): Promise<KernelCaseResult> {
  if (base?.path !== c.image) {
    base?.source.close();
    base = { path: c.image, source: openSource(c.image) };
  }
  const src = new PatchedSource(base.source, c.patches, c.name, c.hints);
  const errors: string[] = [];
  const found = await stage(errors, 'discovery', () => discoverKernel(src, { store }));
  if (!found) return { dtbMethod: null, scanned: false, pslist: null, psscan: null, errors };
  const { kernel, report } = found;
  const list = await stage(errors, 'pslist', () => collectPslist(kernel));
  const scan = await stage(errors, 'psscan', () => collectPsscan(kernel));
  return {
    dtbMethod: kernel.dtbMethod,
    scanned: report.methods.some((m) => m.method === 'dtb:selfref-pml4' && !m.detail.startsWith('not run')),
    pslist: list && { rows: list.rows.length, warnings: list.warnings },
    psscan: scan && { rows: scan.rows.length, warnings: scan.warnings },
    errors,
  };
}
