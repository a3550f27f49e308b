/**
 * Derive the remaining _EPROCESS offsets from the processes on the active list. Each field has a
 * predicate over all listed processes (System first); every aligned offset that satisfies it is a
 * candidate. Among candidates the matched layout family's offset is preferred, then any offset a
 * known build uses, then the lowest unseen one — so an unseen build still works when memory
 * confirms it, and a known layout is not overridden by a coincidence. A field no offset satisfies
 * falls back to the family prior with a low confidence and says so in its evidence.
 */
import { hex } from '../../util/hex.js';
import { type KernelRead, FT_2000, isKernelPointer, plausibleFiletime, printableName, u32, u64, USER_MAX } from './memory.js';
import { type DerivedField, LAYOUT_FAMILIES, type LayoutFamily, observedOffsets } from './priors.js';

export interface ListedProcess {
  readonly va: bigint;
  /** Bytes from the EPROCESS start (as many as were readable, up to the search window). */
  readonly bytes: Uint8Array;
  readonly pid: number;
}

export interface FieldChoice {
  readonly offset: number;
  readonly confidence: number;
  readonly evidence: string;
}

export interface HandleTableOffsets {
  readonly quotaProcess: number | null;
  readonly uniqueProcessId: number | null;
}

export interface DerivedFields {
  readonly fields: Readonly<Record<DerivedField, FieldChoice>>;
  readonly handleTable: HandleTableOffsets;
  readonly family: LayoutFamily | null;
}

const WIDTH: Record<DerivedField, number> = {
  UniqueProcessId: 8, ActiveProcessLinks: 16, ImageFileName: 15, InheritedFromUniqueProcessId: 8,
  CreateTime: 8, ExitTime: 8, Peb: 8, ObjectTable: 8, ActiveThreads: 4,
};

type Pred = (o: number) => boolean;

interface Ctx {
  readonly procs: readonly ListedProcess[];
  readonly read: KernelRead;
  readonly taken: [number, number][];
  readonly window: number;
  /** The layout table the derivation may lean on (tests withhold the image's own layout from it). */
  readonly families: readonly LayoutFamily[];
}

function candidates(ctx: Ctx, field: DerivedField, pred: Pred): number[] {
  const w = WIDTH[field];
  const step = w === 4 ? 4 : 8;
  const out: number[] = [];
  for (let o = 0x30; o + w <= ctx.window; o += step) {
    if (ctx.taken.some(([a, b]) => o < b && o + w > a)) continue;
    if (ctx.procs.some((p) => o + w > p.bytes.length)) continue;
    if (pred(o)) out.push(o);
  }
  return out;
}

function choose(field: DerivedField, cands: number[], family: LayoutFamily | null, confirmed: string, ctx: Ctx): FieldChoice {
  const n = ctx.procs.length;
  const cap = n >= 3 ? 1 : 0.6; // a relation seen on System and one other process only is weak
  const prior = family?.eprocess[field];
  const alt = (o: number) => (cands.length > 1 ? `; ${cands.length - 1} other offset(s) also fit (${cands.filter((c) => c !== o).slice(0, 4).map((c) => hex(c)).join(', ')})` : '');
  let pick: number | undefined;
  let conf: number;
  let why: string;
  if (prior !== undefined && cands.includes(prior)) {
    pick = prior; conf = cands.length === 1 ? 1 : 0.95; why = `the ${family!.label} offset`;
  } else if ((pick = observedOffsets(field, ctx.families).find((o) => cands.includes(o))) !== undefined) {
    conf = cands.length === 1 ? 0.9 : 0.8; why = 'an offset a known build uses';
  } else if (cands.length > 0) {
    pick = cands[0]!; conf = cands.length === 1 ? 0.85 : 0.5; why = 'unseen in the 213 known builds (lowest that fits)';
  } else if (prior !== undefined) {
    return { offset: prior, confidence: 0.3, evidence: `${hex(prior)}: UNCONFIRMED — no offset satisfies "${confirmed}"; taken from the ${family!.label} layout prior` };
  } else {
    throw new Error(`no offset satisfies "${confirmed}" and no known layout matches`);
  }
  ctx.taken.push([pick, pick + WIDTH[field]]);
  return { offset: pick, confidence: Math.min(conf, cap), evidence: `${hex(pick)}: ${confirmed} on ${n} listed processes; ${why}${alt(pick)}` };
}

export function deriveFields(
  procs: readonly ListedProcess[], read: KernelRead, known: { pidOffset: number; imageFileNameOffset: number; dtbOffset: number },
  window: number, buildNumber: number | null, offList: readonly ListedProcess[] = [], families: readonly LayoutFamily[] = LAYOUT_FAMILIES,
): DerivedFields {
  const ctx: Ctx = { procs, read, window, families, taken: [[0, known.dtbOffset + 8], [known.pidOffset, known.pidOffset + 24], [known.imageFileNameOffset, known.imageFileNameOffset + 15]] };
  const [sys, ...others] = procs as [ListedProcess, ...ListedProcess[]];
  const q = (p: ListedProcess, o: number) => u64(p.bytes, o);
  const pids = new Set(procs.map((p) => p.pid));
  const smss = procs.find((p) => printableName(p.bytes, known.imageFileNameOffset)?.toLowerCase() === 'smss.exe');

  const preds: Partial<Record<DerivedField, [string, Pred]>> = {
    CreateTime: ['a FILETIME in 2000..2100, System\'s the earliest', (o) =>
      procs.every((p) => plausibleFiletime(q(p, o))) && others.every((p) => q(p, o) >= q(sys, o))],
    InheritedFromUniqueProcessId: [`System 0, children name another listed PID${smss ? ', smss.exe\'s parent is 4' : ''}`, (o) => {
      if (q(sys, o) !== 0n) return false;
      let hits = 0;
      for (const p of others) {
        const v = q(p, o);
        if (v % 4n !== 0n || v >= 1n << 24n || Number(v) === p.pid) return false;
        if (pids.has(Number(v))) hits++;
      }
      if (smss && q(smss, o) !== 4n) return false;
      return hits >= Math.min(2, others.length);
    }],
    Peb: ['null for System, a page-aligned user-mode pointer for the others', (o) => {
      if (q(sys, o) !== 0n) return false;
      let set = 0;
      for (const p of others) {
        const v = q(p, o);
        if (v === 0n) continue;
        if (v < 0x10000n || v > USER_MAX || (v & 0xfffn) !== 0n) return false;
        set++;
      }
      return set >= Math.max(1, Math.ceil(others.length / 2));
    }],
  };

  // Candidate sets first, so the layout family can be picked by how many fields agree with it.
  const order: DerivedField[] = ['CreateTime', 'InheritedFromUniqueProcessId', 'Peb'];
  const cands = new Map<DerivedField, number[]>();
  for (const f of order) cands.set(f, candidates(ctx, f, preds[f]![1]));
  const ht = objectTableCandidates(ctx, procs);
  cands.set('ObjectTable', ht.map((c) => c.offset));
  const family = pickFamily(known, cands, buildNumber, ctx.families);

  const fields: Partial<Record<DerivedField, FieldChoice>> = {};
  for (const f of order) fields[f] = choose(f, cands.get(f)!, family, preds[f]![0], ctx);
  fields.ObjectTable = choose('ObjectTable', cands.get('ObjectTable')!, family, 'a kernel pointer to a _HANDLE_TABLE whose QuotaProcess or UniqueProcessId names its process', ctx);
  const htPick = ht.find((c) => c.offset === fields.ObjectTable!.offset);
  const handleTable: HandleTableOffsets = htPick?.table ?? { quotaProcess: family?.handleTable.quotaProcess ?? null, uniqueProcessId: family?.handleTable.uniqueProcessId ?? null };

  const ct = fields.CreateTime!.offset;
  const thr = candidates(ctx, 'ActiveThreads', (o) => {
    const vals = procs.map((p) => u32(p.bytes, o));
    // 0 is allowed on a minority: an exited process still on the list has no threads left
    if (vals[0]! < 1 || vals.some((v) => v > 0xffff) || vals.filter((v) => v > 0).length * 2 < vals.length) return false;
    return procs.length < 3 || new Set(vals).size >= 2; // a constant (e.g. ExitStatus 0x103) is not a count
  });
  fields.ActiveThreads = choose('ActiveThreads', thr, family, 'a ULONG ≤ 65535, System ≥ 1, non-zero on most processes, not one constant', ctx);

  fields.ExitTime = exitTime(ctx, ct, family, offList);
  const pidOff = known.pidOffset;
  fields.UniqueProcessId = { offset: pidOff, confidence: 1, evidence: `${hex(pidOff)}: 4 on System, a multiple of 4 on all ${procs.length} listed processes` };
  fields.ActiveProcessLinks = { offset: pidOff + 8, confidence: 1, evidence: `${hex(pidOff + 8)}: UniqueProcessId + 8 (true on every x64 build); Flink/Blink round-trip across ${procs.length} processes` };
  const named = procs.filter((p) => printableName(p.bytes, known.imageFileNameOffset) !== null).length;
  fields.ImageFileName = {
    offset: known.imageFileNameOffset,
    confidence: named === procs.length && procs.length >= 3 ? 1 : named >= 2 ? 0.7 : 0.4,
    evidence: `${hex(known.imageFileNameOffset)}: "System" on System; a printable name on ${named}/${procs.length} listed processes`,
  };
  return { fields: fields as Record<DerivedField, FieldChoice>, handleTable, family };
}

/** The family whose offsets agree with the most candidate sets (pid/name must match exactly). */
function pickFamily(known: { pidOffset: number; imageFileNameOffset: number }, cands: Map<DerivedField, number[]>, buildNumber: number | null, families: readonly LayoutFamily[]): LayoutFamily | null {
  let best: LayoutFamily | null = null;
  let bestScore = -1;
  for (const f of families) {
    if (f.eprocess.UniqueProcessId !== known.pidOffset || f.eprocess.ImageFileName !== known.imageFileNameOffset) continue;
    let score = 0;
    for (const [field, c] of cands) if (c.includes(f.eprocess[field])) score += 2;
    if (buildNumber !== null && buildNumber >= f.builds[0] && buildNumber <= f.builds[1]) score += 1;
    if (score > bestScore) { best = f; bestScore = score; }
  }
  return best;
}

/** ObjectTable: a kernel pointer on every process whose _HANDLE_TABLE points back at it. */
function objectTableCandidates(ctx: Ctx, procs: readonly ListedProcess[]): { offset: number; table: HandleTableOffsets }[] {
  const out: { offset: number; table: HandleTableOffsets }[] = [];
  const pre = candidates(ctx, 'ObjectTable', (o) => procs.every((p) => isKernelPointer(u64(p.bytes, o))));
  for (const o of pre) {
    const quota = new Map<number, number>();
    const pidAt = new Map<number, number>();
    for (const p of procs) {
      const t = ctx.read(u64(p.bytes, o), 0x40);
      if (!t) continue;
      for (let k = 0; k < 0x40; k += 8) {
        const v = u64(t, k);
        if (v === p.va) quota.set(k, (quota.get(k) ?? 0) + 1);
        if (p.pid !== 0 && v === BigInt(p.pid)) pidAt.set(k, (pidAt.get(k) ?? 0) + 1);
      }
    }
    const best = (m: Map<number, number>) => [...m].filter(([, n]) => n >= 2).sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
    const table = { quotaProcess: best(quota), uniqueProcessId: best(pidAt) };
    if (table.quotaProcess !== null || table.uniqueProcessId !== null) out.push({ offset: o, table });
  }
  return out;
}

/**
 * ExitTime: 0 on a live process, a FILETIME ≥ CreateTime once it has exited. Exited processes stay
 * on the list until their last reference goes, so one such process confirms the offset; with none,
 * every all-zero slot fits and only the layout prior (or, for an unseen layout, the CreateTime →
 * ExitTime distance of the known builds) can choose — said in the evidence, at low confidence.
 */
function exitTime(ctx: Ctx, ct: number, family: LayoutFamily | null, offList: readonly ListedProcess[]): FieldChoice {
  const q = (p: ListedProcess, o: number) => u64(p.bytes, o);
  const ok = (p: ListedProcess, o: number) => q(p, o) === 0n || (plausibleFiletime(q(p, o)) && q(p, o) >= q(p, ct));
  const fits = candidates(ctx, 'ExitTime', (o) => ctx.procs.every((p) => ok(p, o)));
  // Exited processes: on the list (zombies) or found by the 'Proc' pool scan (already unlinked).
  const exited = [...ctx.procs, ...offList.filter((p) => p.bytes.length >= ct + 8 && plausibleFiletime(q(p, ct)))];
  const seen = fits.filter((o) => exited.every((p) => o + 8 > p.bytes.length || ok(p, o)) &&
    exited.some((p) => o + 8 <= p.bytes.length && q(p, o) >= FT_2000));
  if (seen.length > 0) {
    const n = exited.filter((p) => seen.some((o) => o + 8 <= p.bytes.length && q(p, o) >= FT_2000)).length;
    return choose('ExitTime', seen, family, `0 on live processes, a FILETIME ≥ CreateTime on ${n} exited one(s) (list or 'Proc' pool scan)`, ctx);
  }
  const prior = family?.eprocess.ExitTime;
  if (prior !== undefined && fits.includes(prior)) {
    return { offset: prior, confidence: 0.5, evidence: `${hex(prior)}: the ${family!.label} offset; consistent (0 on all ${ctx.procs.length} live listed processes) but no exited process confirms it` };
  }
  const deltas = [...new Set(ctx.families.map((f) => f.eprocess.ExitTime - f.eprocess.CreateTime))];
  const guess = deltas.map((d) => ct + d).find((o) => fits.includes(o));
  if (guess !== undefined) {
    return { offset: guess, confidence: 0.25, evidence: `${hex(guess)}: GUESS — CreateTime + 0x${(guess - ct).toString(16)} as in a known build; 0 on every listed process, no exited process confirms it` };
  }
  if (prior !== undefined) return { offset: prior, confidence: 0.2, evidence: `${hex(prior)}: UNCONFIRMED — ${family!.label} prior, contradicted or unreadable in memory` };
  throw new Error('ExitTime: no consistent offset and no known layout matches');
}
