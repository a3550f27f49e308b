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
import type { PdbIdentity, ProfileSource } from '../../profile/model.js';
import { guidAgeKey } from '../../profile/model.js';
import type { Profile } from '../../profile/profile.js';
import type { PhysicalSource } from '../../sources/physical-source.js';
import type { ScanPool } from '../../scan/scan-pool.js';
import { X64AddressSpace } from '../../translate/x64/address-space.js';
import { withPageCache } from '../../sources/page-cache.js';
import { hex } from '../../util/hex.js';
import { pml4FromDtb } from '../../translate/x64/mmu.js';
import type { WindowsKernel } from '../kernel.js';
import { lowStub } from './dtb/low-stub.js';
import { selfRefPml4 } from './dtb/selfref-pml4.js';
import { sourceCr3 } from './dtb/source-cr3.js';
import { type EprocessLayout, KNOWN_X64_LAYOUTS, layoutFromProfile, systemProcess } from './dtb/system-process.js';
import { checkListHead, checkPml4 } from './dtb/validate.js';
import { backScan, checkKernelPe, type KernelImage, kernelFromHint, scanKernelRange } from './kernel-base.js';
import { readU64, readVa, translateVa } from './page-walk.js';
import { type ProfileProviders, resolveProfile } from './profile-resolve.js';
import { inProcessScan, lowFirstScan, type PhysicalScanFn, workerPoolScan } from './scan-runner.js';
import { scanForCandidates } from './dtb/whole-memory.js';
import {
  type CandidateReport, cancelled, type DiscoveryReport, type DtbCandidate, type MethodReport, type ProgressFn,
} from './types.js';

export interface DiscoverOptions {
  /** Where profiles come from (bundled store, cache, symbol server, heuristic). */
  readonly store?: ProfileProviders;
  readonly allowNetwork?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressFn;
  /** Image path: whole-memory scans then run on the worker pool (workers reopen the file). */
  readonly sourcePath?: string;
  /** The session's scan pool over this image (preferred to sourcePath: workers kept for later scans). */
  readonly scanPool?: ScanPool;
  /** Override how scans run (tests). */
  readonly scan?: PhysicalScanFn;
  /** Validate every candidate of every method (no early stop): `memscope dtb` uses this. */
  readonly exhaustive?: boolean;
  /** A VA known to hold NtBuildNumber (e.g. from a WinDbg session): back-scan start. */
  readonly ntBuildNumberVa?: bigint;
  /** Skip the whole-memory scans (fast path only). */
  readonly noScan?: boolean;
}

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

interface Accepted {
  readonly cand: DtbCandidate;
  readonly image: KernelImage;
  readonly kernelPa: number;
  readonly profile: Profile;
  readonly profileSource: ProfileSource;
  readonly buildNumber: number | null;
}

type Verdict = { ok: true; acc: Accepted; steps: string[] } | { ok: false; steps: string[] };

export async function discoverKernel(source: PhysicalSource, opts: DiscoverOptions = {}): Promise<DiscoveryResult> {
  const t0 = performance.now();
  const timings: Record<string, number> = { dtb: 0, kernelBase: 0, profile: 0, validate: 0 };
  const time = <T>(k: string, f: () => T): T => {
    const s = performance.now();
    opts.onProgress?.({ step: k, done: 0, total: 0 }); // the stage an open's progress shows
    try { return f(); } finally { timings[k] = (timings[k] ?? 0) + (performance.now() - s); }
  };
  const timeAsync = async <T>(k: string, f: () => Promise<T>): Promise<T> => {
    const s = performance.now();
    opts.onProgress?.({ step: k, done: 0, total: 0 });
    try { return await f(); } finally { timings[k] = (timings[k] ?? 0) + (performance.now() - s); }
  };
  const methods: MethodReport[] = [];
  const candidates: CandidateReport[] = [];
  const warnings: string[] = [];
  const accepted: Accepted[] = [];
  const byPml4 = new Map<number, Verdict>();
  const profiles = new Map<string, { profile: Profile | null; source: ProfileSource | null }>();
  const kernels = new Map<string, { image: KernelImage | null; tried: string[] }>();
  const providers = opts.store ?? {};
  const signal = opts.signal;
  const check = () => { if (signal?.aborted) throw cancelled(); };

  /** Find ntoskrnl under a PML4, cheapest way first. */
  const findKernel = (c: DtbCandidate): { image: KernelImage | null; tried: string[] } => {
    // Candidates that share the kernel image range's PML4 entries (System and every process PML4)
    // share the answer.
    const key = `${readU64(source, c.pml4 + 0x1f0 * 8)}:${readU64(source, c.pml4 + 0x1f1 * 8)}`;
    const hit = kernels.get(key);
    if (hit) return hit;
    const tried: string[] = [];
    const attempt = (name: string, f: () => { found: KernelImage | null; tried: string[] }): KernelImage | null => {
      const s = performance.now();
      const r = time('kernelBase', f);
      methods.push({ method: `kernel-base:${name}`, ok: r.found !== null, detail: r.found ? `${hex(r.found.base)} (${r.found.evidence}) via PML4 ${hex(c.pml4)}` : r.tried.join('; '), ms: performance.now() - s });
      tried.push(...r.tried);
      return r.found;
    };
    let image: KernelImage | null = null;
    if (source.hints.kernelBase !== undefined) image = attempt('source-hint', () => kernelFromHint(source, c.pml4, source.hints.kernelBase));
    const starts: [string, bigint | undefined][] = [
      ['NtBuildNumber', opts.ntBuildNumberVa],
      ['low-stub kernel entry', c.kernelHintVa],
      ['PsActiveProcessHead', source.hints.psActiveProcessHead],
      ['PsLoadedModuleList', source.hints.psLoadedModuleList],
      ['KdDebuggerDataBlock', source.hints.kdDebuggerDataBlock],
    ];
    for (const [what, va] of starts) {
      if (image || va === undefined) continue;
      image = attempt('back-scan', () => backScan(source, c.pml4, va, what, signal));
    }
    if (!image) image = attempt('va-scan', () => scanKernelRange(source, c.pml4, signal));
    const r = { image, tried };
    kernels.set(key, r);
    return r;
  };

  const getProfile = async (pdb: PdbIdentity, base: bigint, pml4: number) => {
    const key = guidAgeKey(pdb);
    const cached = profiles.get(key);
    if (cached) return cached;
    const r = await timeAsync('profile', () => resolveProfile(pdb, providers, {
      kernelBase: base,
      readKernel: (va, len) => readVa(source, pml4, va, len),
    }, { allowNetwork: opts.allowNetwork, signal }));
    methods.push(...r.tried);
    const v = { profile: r.profile, source: r.source };
    profiles.set(key, v);
    return v;
  };

  const validate = async (c: DtbCandidate): Promise<Verdict> => {
    const prev = byPml4.get(c.pml4);
    if (prev) return prev;
    const steps: string[] = [];
    const fail = (why: string): Verdict => { steps.push(why); const v: Verdict = { ok: false, steps }; byPml4.set(c.pml4, v); return v; };
    const s = time('validate', () => checkPml4(source, c.pml4));
    if (!s.ok) return fail(s.reason);
    steps.push(s.detail);
    const k = findKernel(c);
    if (!k.image) return fail(`no ntoskrnl image found through it (${k.tried.join('; ') || 'nothing to try'})`);
    const image = k.image;
    steps.push(`ntoskrnl at ${hex(image.base)} (${image.how}): ${image.pe.pdb!.name} ${image.pe.pdb!.guid}/${image.pe.pdb!.age}`);
    const prof = await getProfile(image.pe.pdb!, image.base, c.pml4);
    if (!prof.profile) return fail(`no profile for ${image.pe.pdb!.name} ${guidAgeKey(image.pe.pdb!)}`);
    const profile = prof.profile;
    if (!profile.hasSymbol('PsActiveProcessHead')) return fail(`profile ${profile.label} has no PsActiveProcessHead`);
    const head = image.base + BigInt(profile.symbol('PsActiveProcessHead'));
    const l = time('validate', () => checkListHead(source, c.pml4, head));
    if (!l.ok) return fail(l.reason);
    steps.push(l.detail);
    let buildNumber: number | null = null;
    if (profile.hasSymbol('NtBuildNumber')) {
      const b = readVa(source, c.pml4, image.base + BigInt(profile.symbol('NtBuildNumber')), 4);
      if (b) {
        buildNumber = new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true) & 0xffff;
        steps.push(`NtBuildNumber ${buildNumber}`);
      }
    }
    const kernelPa = translateVa(source, c.pml4, image.base) ?? -1;
    const v: Verdict = { ok: true, steps, acc: { cand: c, image, kernelPa, profile, profileSource: prof.source!, buildNumber } };
    byPml4.set(c.pml4, v);
    return v;
  };

  /** Validate one candidate, record it; true when accepted. */
  const consider = async (c: DtbCandidate): Promise<boolean> => {
    check();
    const v = await validate(c);
    candidates.push({ ...c, status: v.ok ? 'accepted' : 'rejected', validation: v.steps, ...(v.ok ? { kernelBase: v.acc.image.base } : {}) });
    if (v.ok) accepted.push({ ...v.acc, cand: c });
    return v.ok;
  };

  const runMethod = async (name: string, gen: AsyncIterable<DtbCandidate>, stopOnAccept: boolean): Promise<void> => {
    const s = performance.now();
    let n = 0;
    let ok = 0;
    let err: string | null = null;
    try {
      for await (const c of gen) {
        n++;
        if (await consider(c)) {
          ok++;
          if (stopOnAccept && !opts.exhaustive) break;
        }
      }
    } catch (e) {
      if (signal?.aborted) throw cancelled();
      if (e instanceof MemScopeError && e.kind === 'cancelled') err = 'stopped';
      else err = (e as Error).message;
    }
    const ms = performance.now() - s;
    const detail = err && err !== 'stopped' ? `failed: ${err}` :
      n === 0 ? 'no candidate found' : `${n} candidate(s), ${ok} validated${err === 'stopped' ? ' (scan stopped early)' : ''}`;
    methods.push({ method: `dtb:${name}`, ok: ok > 0, detail, ms });
  };

  // 1. cheap methods
  const cheapStart = performance.now();
  opts.onProgress?.({ step: 'dtb', done: 0, total: 0 });
  await runMethod('source-cr3', sourceCr3(source), false);
  await runMethod('low-stub', lowStub(source, signal), !opts.exhaustive);
  timings.dtb! += performance.now() - cheapStart;

  // 2. whole-memory scans, one pass for both methods, only if needed
  if ((accepted.length === 0 || opts.exhaustive) && !opts.noScan) {
    const scanStart = performance.now();
    const pooled = opts.scanPool ?? opts.sourcePath;
    // Low memory first, in-process, when the first validated candidate may end the scan; an
    // exhaustive pass reads everything anyway, so all of it goes to the pool at once.
    const pooledScan = pooled === undefined ? null : opts.exhaustive ? workerPoolScan(pooled) : lowFirstScan(source, workerPoolScan(pooled));
    const scan = opts.scan ?? pooledScan ?? inProcessScan(source);
    const known = accepted[0]?.profile;
    const layouts: readonly EprocessLayout[] = known ? [layoutFromProfile(known)] : KNOWN_X64_LAYOUTS;
    const passMethods = [selfRefPml4(source), systemProcess(source, layouts)];
    const found = new Map(passMethods.map((m) => [m.name, { n: 0, ok: 0 }]));
    let err: string | null = null;
    let stopped = false;
    try {
      for await (const { method, candidate } of scanForCandidates(passMethods, scan, { signal, onProgress: opts.onProgress })) {
        const f = found.get(method)!;
        f.n++;
        if (await consider(candidate)) {
          f.ok++;
          if (!opts.exhaustive) { stopped = true; break; } // leaving the loop stops the scan
        }
      }
    } catch (e) {
      if (signal?.aborted) throw cancelled();
      err = (e as Error).message;
    }
    const ms = performance.now() - scanStart;
    for (const m of passMethods) {
      const { n, ok } = found.get(m.name)!;
      const detail = err ? `failed: ${err}` :
        n === 0 ? 'no candidate found' : `${n} candidate(s), ${ok} validated${stopped ? ' (scan stopped early)' : ''}`;
      methods.push({ method: `dtb:${m.name}`, ok: ok > 0, detail: `${detail}; one pass shared with ${passMethods.filter((o) => o !== m).map((o) => o.name).join(', ')}`, ms });
    }
    check();
    timings.dtb! += ms;
  } else if (accepted.length > 0) {
    methods.push({ method: 'dtb:selfref-pml4', ok: false, detail: 'not run: a cheaper method already validated', ms: 0 });
    methods.push({ method: 'dtb:system-process', ok: false, detail: 'not run: a cheaper method already validated', ms: 0 });
  }

  // 3. System's own DirectoryTableBase, once a kernel is known
  if (accepted.length > 0) {
    const first = accepted[0]!;
    const s = performance.now();
    const sys = systemDirBase(source, first);
    if (sys) await consider(sys);
    methods.push({ method: 'dtb:system-process(PsInitialSystemProcess)', ok: sys !== null && accepted.some((a) => a.cand === sys), detail: sys ? sys.evidence.join('; ') : 'PsInitialSystemProcess not readable', ms: performance.now() - s });
  }

  timings.total = performance.now() - t0;
  const report = (acc: Accepted | null): DiscoveryReport => ({
    source: source.name,
    methods,
    candidates,
    timings: Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v * 10) / 10])),
    accepted: acc ? {
      dtbRaw: acc.cand.dtbRaw,
      dtb: BigInt(acc.cand.pml4),
      dtbMethod: acc.cand.method,
      kernelBase: acc.image.base,
      buildNumber: acc.buildNumber,
      pdb: acc.image.pe.pdb,
      profileSource: acc.profileSource,
    } : null,
    warnings,
  });

  if (accepted.length === 0) {
    const r = report(null);
    throw new DiscoveryError(`${source.name}: no Windows x64 kernel found; ${summarise(r)}`, r);
  }
  const kernelsSeen = new Map<string, Accepted>();
  for (const a of accepted) kernelsSeen.set(`${a.kernelPa}:${guidAgeKey(a.image.pe.pdb!)}`, a);
  if (kernelsSeen.size > 1) {
    const r = report(null);
    const list = [...kernelsSeen.values()].map((a) => `ntoskrnl ${hex(a.image.base)} at PA ${hex(a.kernelPa)} (DTB ${hex(a.cand.dtbRaw)}, ${a.cand.method})`).join('; ');
    throw new DiscoveryError(`${source.name}: ${kernelsSeen.size} different kernels found (nested VM or several systems in one image): ${list}`, r);
  }
  const best = [...accepted].sort((a, b) => b.cand.score - a.cand.score)[0]!;
  const r = report(best);
  return { kernel: makeKernel(source, best), report: r };
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
