/**
 * The one validator of a DTB candidate, and what discovery keeps while it runs (timings, methods
 * tried, candidates judged, caches). A candidate is accepted when its PML4 is sane, ntoskrnl's PE is
 * found through it (kernel base), a profile resolves for that PE's PDB GUID/age (profile), and the
 * profile's PsActiveProcessHead is a consistent LIST_ENTRY there.
 */
import { MemScopeError } from '../../errors.js';
import type { PdbIdentity, ProfileSource } from '../../profile/model.js';
import { guidAgeKey } from '../../profile/model.js';
import type { Profile } from '../../profile/profile.js';
import type { PhysicalSource } from '../../sources/physical-source.js';
import { hex } from '../../util/hex.js';
import { checkListHead, checkPml4 } from './dtb/validate.js';
import { backScan, type KernelImage, kernelFromHint, scanKernelRange } from './kernel-base.js';
import { readU64, readVa, translateVa } from './page-walk.js';
import { type ProfileProviders, resolveProfile } from './profile-resolve.js';
import type { PhysicalScanFn } from './scan-runner.js';
import { type CandidateReport, cancelled, type DtbCandidate, type MethodReport, type ProgressFn } from './types.js';

export interface DiscoverOptions {
  /** Where profiles come from (bundled store, cache, symbol server, heuristic). */
  readonly store?: ProfileProviders;
  readonly allowNetwork?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressFn;
  /** How whole-memory scans run: the session's scan function; default in-process on `source`. */
  readonly scan?: PhysicalScanFn;
  /** Validate every candidate of every method (no early stop): `memscope dtb` uses this. */
  readonly exhaustive?: boolean;
  /** A VA known to hold NtBuildNumber (e.g. from a WinDbg session): back-scan start. */
  readonly ntBuildNumberVa?: bigint;
  /** Skip the whole-memory scans (fast path only). */
  readonly noScan?: boolean;
}

/** A validated candidate: the kernel found through it and its profile. */
export interface Accepted {
  readonly cand: DtbCandidate;
  readonly image: KernelImage;
  readonly kernelPa: number;
  readonly profile: Profile;
  readonly profileSource: ProfileSource;
  readonly buildNumber: number | null;
}

type Verdict = { ok: true; acc: Accepted; steps: string[] } | { ok: false; steps: string[] };

/** One discovery in progress: what it has tried, judged and accepted, with the caches candidates share. */
export class DiscoveryRun {
  readonly t0 = performance.now();
  readonly timings: Record<string, number> = { dtb: 0, kernelBase: 0, profile: 0, validate: 0 };
  readonly methods: MethodReport[] = [];
  readonly candidates: CandidateReport[] = [];
  readonly warnings: string[] = [];
  readonly accepted: Accepted[] = [];
  private readonly byPml4 = new Map<number, Verdict>();
  private readonly profiles = new Map<string, { profile: Profile | null; source: ProfileSource | null }>();
  private readonly kernels = new Map<string, { image: KernelImage | null; tried: string[] }>();

  constructor(readonly source: PhysicalSource, readonly opts: DiscoverOptions) {}

  get signal(): AbortSignal | undefined {
    return this.opts.signal;
  }

  /** Throw `cancelled` once the caller has given up. */
  check(): void {
    if (this.opts.signal?.aborted) throw cancelled();
  }

  time<T>(k: string, f: () => T): T {
    const s = performance.now();
    this.opts.onProgress?.({ step: k, done: 0, total: 0 }); // the stage an open's progress shows
    try { return f(); } finally { this.timings[k] = (this.timings[k] ?? 0) + (performance.now() - s); }
  }

  async timeAsync<T>(k: string, f: () => Promise<T>): Promise<T> {
    const s = performance.now();
    this.opts.onProgress?.({ step: k, done: 0, total: 0 });
    try { return await f(); } finally { this.timings[k] = (this.timings[k] ?? 0) + (performance.now() - s); }
  }

  /** Validate one candidate and record it; true when accepted. */
  async consider(c: DtbCandidate): Promise<boolean> {
    this.check();
    const v = await this.validate(c);
    this.candidates.push({ ...c, status: v.ok ? 'accepted' : 'rejected', validation: v.steps, ...(v.ok ? { kernelBase: v.acc.image.base } : {}) });
    if (v.ok) this.accepted.push({ ...v.acc, cand: c });
    return v.ok;
  }

  /** The one candidate validator: sane PML4 → ntoskrnl through it → its profile → PsActiveProcessHead a consistent list (once per PML4). */
  private async validate(c: DtbCandidate): Promise<Verdict> {
    const prev = this.byPml4.get(c.pml4);
    if (prev) return prev;
    const v = await this.judge(c);
    this.byPml4.set(c.pml4, v);
    return v;
  }

  private async judge(c: DtbCandidate): Promise<Verdict> {
    const { source } = this;
    const steps: string[] = [];
    const fail = (why: string): Verdict => { steps.push(why); return { ok: false, steps }; };
    const s = this.time('validate', () => checkPml4(source, c.pml4));
    if (!s.ok) return fail(s.reason);
    steps.push(s.detail);
    const k = this.findKernel(c);
    if (!k.image) return fail(`no ntoskrnl image found through it (${k.tried.join('; ') || 'nothing to try'})`);
    const image = k.image;
    const pdb = image.pe.pdb!;
    steps.push(`ntoskrnl at ${hex(image.base)} (${image.how}): ${pdb.name} ${pdb.guid}/${pdb.age}`);
    const prof = await this.profileFor(pdb, image.base, c.pml4);
    if (!prof.profile) return fail(`no profile for ${pdb.name} ${guidAgeKey(pdb)}`);
    const profile = prof.profile;
    if (!profile.hasSymbol('PsActiveProcessHead')) return fail(`profile ${profile.label} has no PsActiveProcessHead`);
    const l = this.time('validate', () => checkListHead(source, c.pml4, image.base + BigInt(profile.symbol('PsActiveProcessHead'))));
    if (!l.ok) return fail(l.reason);
    steps.push(l.detail);
    const buildNumber = this.buildNumber(c, image, profile);
    if (buildNumber !== null) steps.push(`NtBuildNumber ${buildNumber}`);
    const kernelPa = translateVa(source, c.pml4, image.base) ?? -1;
    return { ok: true, steps, acc: { cand: c, image, kernelPa, profile, profileSource: prof.source!, buildNumber } };
  }

  /** NtBuildNumber's low 16 bits, read through the candidate; null when the profile or the page lacks it. */
  private buildNumber(c: DtbCandidate, image: KernelImage, profile: Profile): number | null {
    if (!profile.hasSymbol('NtBuildNumber')) return null;
    const b = readVa(this.source, c.pml4, image.base + BigInt(profile.symbol('NtBuildNumber')), 4);
    return b ? new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true) & 0xffff : null;
  }

  /** Kernel base phase: ntoskrnl under a PML4, cheapest way first (shared by PML4s mapping the same kernel range). */
  private findKernel(c: DtbCandidate): { image: KernelImage | null; tried: string[] } {
    const { source, opts, signal } = this;
    // Candidates that share the kernel image range's PML4 entries (System and every process PML4)
    // share the answer.
    const key = `${readU64(source, c.pml4 + 0x1f0 * 8)}:${readU64(source, c.pml4 + 0x1f1 * 8)}`;
    const hit = this.kernels.get(key);
    if (hit) return hit;
    const tried: string[] = [];
    const attempt = (name: string, f: () => { found: KernelImage | null; tried: string[] }): KernelImage | null => {
      const s = performance.now();
      const r = this.time('kernelBase', f);
      this.methods.push({ method: `kernel-base:${name}`, ok: r.found !== null, detail: r.found ? `${hex(r.found.base)} (${r.found.evidence}) via PML4 ${hex(c.pml4)}` : r.tried.join('; '), ms: performance.now() - s });
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
    this.kernels.set(key, r);
    return r;
  }

  /** Profile phase: the profile for a kernel's PDB GUID/age (once per GUID/age). */
  private async profileFor(pdb: PdbIdentity, base: bigint, pml4: number): Promise<{ profile: Profile | null; source: ProfileSource | null }> {
    const key = guidAgeKey(pdb);
    const cached = this.profiles.get(key);
    if (cached) return cached;
    const r = await this.timeAsync('profile', () => resolveProfile(pdb, this.opts.store ?? {}, {
      kernelBase: base,
      readKernel: (va, len) => readVa(this.source, pml4, va, len),
    }, { allowNetwork: this.opts.allowNetwork, signal: this.signal }));
    this.methods.push(...r.tried);
    const v = { profile: r.profile, source: r.source };
    this.profiles.set(key, v);
    return v;
  }
}

/** A method's scan stopped on purpose (a candidate validated), not a failure. */
export const isStopped = (e: unknown): boolean => e instanceof MemScopeError && e.kind === 'cancelled';
