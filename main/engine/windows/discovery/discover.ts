/**
 * discoverKernel: from an open physical source to a WindowsKernel (DTB, kernel base, build,
 * profile), explained. Order: the cheap methods first (the source's own CR3, the low stub), each
 * candidate validated as soon as it appears; only if none validates, the whole-memory scans
 * (self-referencing PML4, System EPROCESS) run as one pass on the worker pool and stop as soon as
 * one candidate validates (unless `exhaustive`). Validation of a candidate = sane PML4 → ntoskrnl
 * PE found through it → profile resolved for its PDB GUID/age → PsActiveProcessHead a consistent
 * LIST_ENTRY. Once the kernel is known, System's own DirectoryTableBase (via PsInitialSystemProcess)
 * is read and preferred, so a scan that first met some process's PML4 still reports the System DTB.
 */
import { MemScopeError } from '../../errors.js';
import { guidAgeKey } from '../../profile/model.js';
import type { PhysicalSource } from '../../sources/physical-source.js';
import { X64AddressSpace } from '../../translate/x64/address-space.js';
import { withPageCache } from '../../sources/page-cache.js';
import { hex } from '../../util/hex.js';
import { pml4FromDtb } from '../../translate/x64/mmu.js';
import type { WindowsKernel } from '../kernel.js';
import { lowStub } from './dtb/low-stub.js';
import { selfRefPml4 } from './dtb/selfref-pml4.js';
import { sourceCr3 } from './dtb/source-cr3.js';
import { type EprocessLayout, KNOWN_X64_LAYOUTS, layoutFromProfile, systemProcess } from './dtb/system-process.js';
import { type Accepted, type DiscoverOptions, DiscoveryRun, isStopped } from './candidate-validator.js';
import { readVa } from './page-walk.js';
import { inProcessScan, lowFirstScan } from './scan-runner.js';
import { scanForCandidates } from './dtb/whole-memory.js';
import { cancelled, type DiscoveryReport, type DtbCandidate } from './types.js';

export type { DiscoverOptions } from './candidate-validator.js';

export interface DiscoveryResult {
  readonly kernel: WindowsKernel;
  readonly report: DiscoveryReport;
}

/** Discovery failed; the message summarises, `report` has everything. */
export class DiscoveryError extends MemScopeError {
  constructor(message: string, readonly report: DiscoveryReport) {
    super('analysis', message);
    this.name = 'DiscoveryError';
  }
}

export async function discoverKernel(source: PhysicalSource, opts: DiscoverOptions = {}): Promise<DiscoveryResult> {
  const run = new DiscoveryRun(source, opts);
  await cheapDtbCandidates(run);
  if ((run.accepted.length === 0 || opts.exhaustive) && !opts.noScan) await wholeMemoryDtbCandidates(run);
  else if (run.accepted.length > 0) {
    run.methods.push({ method: 'dtb:selfref-pml4', ok: false, detail: 'not run: a cheaper method already validated', ms: 0 });
    run.methods.push({ method: 'dtb:system-process', ok: false, detail: 'not run: a cheaper method already validated', ms: 0 });
  }
  if (run.accepted.length > 0) await preferSystemDirBase(run);
  return conclude(run);
}

/** One method's candidates, each validated as it comes; the method's line in the report. */
async function runMethod(run: DiscoveryRun, name: string, gen: AsyncIterable<DtbCandidate>, stopOnAccept: boolean): Promise<void> {
  const s = performance.now();
  let n = 0;
  let ok = 0;
  let err: string | null = null;
  try {
    for await (const c of gen) {
      n++;
      if (await run.consider(c)) {
        ok++;
        if (stopOnAccept && !run.opts.exhaustive) break;
      }
    }
  } catch (e) {
    if (run.signal?.aborted) throw cancelled();
    err = isStopped(e) ? 'stopped' : (e as Error).message;
  }
  const detail = err && err !== 'stopped' ? `failed: ${err}` :
    n === 0 ? 'no candidate found' : `${n} candidate(s), ${ok} validated${err === 'stopped' ? ' (scan stopped early)' : ''}`;
  run.methods.push({ method: `dtb:${name}`, ok: ok > 0, detail, ms: performance.now() - s });
}

/** DTB phase 1: the cheap methods (the source's own CR3, the low stub). */
async function cheapDtbCandidates(run: DiscoveryRun): Promise<void> {
  const start = performance.now();
  run.opts.onProgress?.({ step: 'dtb', done: 0, total: 0 }); // the stage an open's progress shows
  await runMethod(run, 'source-cr3', sourceCr3(run.source), false);
  await runMethod(run, 'low-stub', lowStub(run.source, run.signal), !run.opts.exhaustive);
  run.timings.dtb! += performance.now() - start;
}

/**
 * DTB phase 2: the whole-memory scans (self-referencing PML4, System EPROCESS) in one pass, on the
 * worker pool when there is one; leaving the loop at the first accepted candidate stops the scan.
 */
async function wholeMemoryDtbCandidates(run: DiscoveryRun): Promise<void> {
  const { source, opts } = run;
  const scanStart = performance.now();
  const given = opts.scan ?? inProcessScan(source);
  // Low memory first, in-process, when the scan runs on workers and the first validated candidate
  // may end it; an exhaustive pass reads everything anyway, so all of it goes to the workers at once.
  const scan = given.onWorkers && !opts.exhaustive ? lowFirstScan(source, given) : given;
  const known = run.accepted[0]?.profile;
  const layouts: readonly EprocessLayout[] = known ? [layoutFromProfile(known)] : KNOWN_X64_LAYOUTS;
  const passMethods = [selfRefPml4(source), systemProcess(source, layouts)];
  const found = new Map(passMethods.map((m) => [m.name, { n: 0, ok: 0 }]));
  let err: string | null = null;
  let stopped = false;
  try {
    for await (const { method, candidate } of scanForCandidates(passMethods, scan, { signal: run.signal, onProgress: opts.onProgress })) {
      const f = found.get(method)!;
      f.n++;
      if (await run.consider(candidate)) {
        f.ok++;
        if (!opts.exhaustive) { stopped = true; break; } // leaving the loop stops the scan
      }
    }
  } catch (e) {
    if (run.signal?.aborted) throw cancelled();
    err = (e as Error).message;
  }
  const ms = performance.now() - scanStart;
  for (const m of passMethods) {
    const { n, ok } = found.get(m.name)!;
    const detail = err ? `failed: ${err}` :
      n === 0 ? 'no candidate found' : `${n} candidate(s), ${ok} validated${stopped ? ' (scan stopped early)' : ''}`;
    run.methods.push({ method: `dtb:${m.name}`, ok: ok > 0, detail: `${detail}; one pass shared with ${passMethods.filter((o) => o !== m).map((o) => o.name).join(', ')}`, ms });
  }
  run.check();
  run.timings.dtb! += ms;
}

/** DTB phase 3: with a kernel known, System's own DirectoryTableBase (via PsInitialSystemProcess) as a candidate. */
async function preferSystemDirBase(run: DiscoveryRun): Promise<void> {
  const s = performance.now();
  const sys = systemDirBase(run.source, run.accepted[0]!);
  if (sys) await run.consider(sys);
  run.methods.push({ method: 'dtb:system-process(PsInitialSystemProcess)', ok: sys !== null && run.accepted.some((a) => a.cand === sys), detail: sys ? sys.evidence.join('; ') : 'PsInitialSystemProcess not readable', ms: performance.now() - s });
}

/** The report of a run, naming the accepted candidate (if any). */
function reportOf(run: DiscoveryRun, acc: Accepted | null): DiscoveryReport {
  return {
    source: run.source.name,
    methods: run.methods,
    candidates: run.candidates,
    timings: Object.fromEntries(Object.entries(run.timings).map(([k, v]) => [k, Math.round(v * 10) / 10])),
    accepted: acc ? {
      dtbRaw: acc.cand.dtbRaw,
      dtb: BigInt(acc.cand.pml4),
      dtbMethod: acc.cand.method,
      kernelBase: acc.image.base,
      buildNumber: acc.buildNumber,
      pdb: acc.image.pe.pdb,
      profileSource: acc.profileSource,
    } : null,
    warnings: run.warnings,
  };
}

/** The kernel of the best accepted candidate, or an error when none was accepted or several kernels were. */
function conclude(run: DiscoveryRun): DiscoveryResult {
  const { source, accepted } = run;
  run.timings.total = performance.now() - run.t0;
  if (accepted.length === 0) {
    const r = reportOf(run, null);
    throw new DiscoveryError(`${source.name}: no Windows x64 kernel found; ${summarise(r)}`, r);
  }
  const kernelsSeen = new Map<string, Accepted>();
  for (const a of accepted) kernelsSeen.set(`${a.kernelPa}:${guidAgeKey(a.image.pe.pdb!)}`, a);
  if (kernelsSeen.size > 1) {
    const list = [...kernelsSeen.values()].map((a) => `ntoskrnl ${hex(a.image.base)} at PA ${hex(a.kernelPa)} (DTB ${hex(a.cand.dtbRaw)}, ${a.cand.method})`).join('; ');
    throw new DiscoveryError(`${source.name}: ${kernelsSeen.size} different kernels found (nested VM or several systems in one image): ${list}`, reportOf(run, null));
  }
  const best = [...accepted].sort((a, b) => b.cand.score - a.cand.score)[0]!;
  return { kernel: makeKernel(source, best), report: reportOf(run, best) };
}

function makeKernel(physical: PhysicalSource, a: Accepted): WindowsKernel {
  const kernelBase = a.image.base;
  const profile = a.profile;
  // Plugins read the same pages again and again (page tables, EPROCESS blocks, PEBs across pslist,
  // psscan and psxview): one page cache for the kernel space and every process space over it.
  const source = withPageCache(physical);
  return {
    source,
    kernel: new X64AddressSpace(source, a.cand.dtbRaw),
    dtbRaw: a.cand.dtbRaw,
    dtb: BigInt(a.cand.pml4),
    dtbMethod: a.cand.method,
    kernelBase,
    buildNumber: a.buildNumber,
    profile,
    profileSource: a.profileSource,
    symbolVa: (name: string) => kernelBase + BigInt(profile.symbol(name)),
  };
}

/** System's EPROCESS via PsInitialSystemProcess → DirectoryTableBase, as a (high-score) candidate. */
function systemDirBase(source: PhysicalSource, a: Accepted): DtbCandidate | null {
  const p = a.profile;
  if (!p.hasSymbol('PsInitialSystemProcess') || !p.hasField('_EPROCESS', 'UniqueProcessId')) return null;
  const ptr = readVa(source, a.cand.pml4, a.image.base + BigInt(p.symbol('PsInitialSystemProcess')), 8);
  if (!ptr) return null;
  const eproc = new DataView(ptr.buffer, ptr.byteOffset, 8).getBigUint64(0, true);
  let layout: EprocessLayout;
  try { layout = layoutFromProfile(p); } catch { return null; }
  const pid = readVa(source, a.cand.pml4, eproc + BigInt(layout.uniqueProcessId), 8);
  const dtb = readVa(source, a.cand.pml4, eproc + BigInt(layout.directoryTableBase), 8);
  if (!pid || !dtb) return null;
  const pidV = new DataView(pid.buffer, pid.byteOffset, 8).getBigUint64(0, true);
  const dtbV = new DataView(dtb.buffer, dtb.byteOffset, 8).getBigUint64(0, true);
  if (pidV !== 4n || dtbV === 0n) return null;
  return {
    dtbRaw: dtbV,
    pml4: pml4FromDtb(dtbV),
    method: 'system-process',
    evidence: [`PsInitialSystemProcess → EPROCESS ${hex(eproc)} (PID 4)`, `DirectoryTableBase ${hex(dtbV)}`],
    score: 95,
  };
}

/** One clause per method: what it found or why not. */
function summarise(r: DiscoveryReport): string {
  const parts: string[] = [];
  const dtbMethods = r.methods.filter((m) => m.method.startsWith('dtb:'));
  for (const m of dtbMethods) {
    const name = m.method.slice(4);
    const rej = r.candidates.filter((c) => c.method === name && c.status === 'rejected');
    const why = rej.length ? ` — rejected: ${rej.slice(0, 3).map((c) => `${hex(c.dtbRaw)}: ${c.validation[c.validation.length - 1]}`).join('; ')}${rej.length > 3 ? ` (+${rej.length - 3} more)` : ''}` : '';
    parts.push(`${name}: ${m.detail}${why}`);
  }
  return `tried ${parts.join('; ')}`;
}
