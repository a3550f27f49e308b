/**
 * psxview's one table of rules: from what each source saw, how far each source could be trusted
 * (its health, or that it was never checked), the exit time and the pool block, the first rule that
 * applies gives both the status word and the verdict sentence, which starts with that word
 * ("hidden: unlinked from the active list but has live threads (DKOM)"). Nothing else decides either.
 */
import { PSXVIEW_SOURCES, type ProcessStatusWord, type PsxSource } from '../../../../common/process-vocabulary.js';
import { hex } from '../../util/hex.js';

/**
 * How far a source could be trusted in this image: 'ok'; 'incomplete' when its walk ended part-way
 * (absence says little); 'unusable' when its structure is empty, unreadable or yields no sane process
 * (absence says nothing), `problem` naming the structure and address; 'unchecked' when it has not
 * run (yet, or ever: the scan was cancelled), so absence from it is no finding at all.
 */
export type SourceHealth =
  | { readonly status: 'ok' }
  | { readonly status: 'incomplete' | 'unusable'; readonly problem: string }
  | { readonly status: 'unchecked'; readonly reason: UncheckedReason };

export type UncheckedReason = 'still running' | 'scan cancelled';

export type SourceHealthMap = Readonly<Record<PsxSource, SourceHealth>>;

const healthOfAll = (h: SourceHealth): SourceHealthMap => Object.fromEntries(PSXVIEW_SOURCES.map((s) => [s, h])) as Record<PsxSource, SourceHealth>;
export const ALL_SOURCES_OK: SourceHealthMap = healthOfAll({ status: 'ok' });
export const NONE_CHECKED: SourceHealthMap = healthOfAll({ status: 'unchecked', reason: 'still running' });

/** What the table reads about one process. */
export interface PresenceFacts {
  readonly name: string | null;
  /** Which sources saw it (a source that was not checked may still have seen it before it stopped). */
  readonly seen: Readonly<Record<PsxSource, boolean>>;
  readonly health: SourceHealthMap;
  readonly exitTime: string | null;
  /** Its EPROCESS lies in a freed pool block (PoolType 0). */
  readonly freedPoolBlock: boolean;
  /** PA of an EPROCESS found only in a physical page no kernel table maps (VA unknown), else null. */
  readonly unmappedPa: number | null;
}

export interface Presence {
  readonly status: ProcessStatusWord;
  /** The status word, a colon, and why. */
  readonly verdict: string;
}

/** Processes that are legitimately absent from csrss's handles / session lists (Volatility 2 notes). */
const SESSIONLESS = new Set(['System', 'Registry', 'smss.exe', 'MemCompression', 'Secure System']);

/** Is a process of this name legitimately absent from source `s` (no csrss handle / no session)? */
export function expectedAbsent(s: PsxSource, name: string | null): boolean {
  return (s === 'csrss' && (SESSIONLESS.has(name ?? '') || name === 'csrss.exe' || name === 'wininit.exe')) ||
    (s === 'session' && SESSIONLESS.has(name ?? ''));
}

/** A source's value in the row: seen, not seen, or null when it was not checked (and did not see it). */
export function seenValue(f: Pick<PresenceFacts, 'seen' | 'health'>, s: PsxSource): boolean | null {
  return f.seen[s] ? true : f.health[s].status === 'unchecked' ? null : false;
}

/** Sources whose live objects prove the process runs: its threads, its CID, csrss's handle, its session. */
const THREAD_WITNESSES = ['thrdscan', 'cidtable'] as const;
const OBJECT_WITNESSES = ['csrss', 'session'] as const;

const ok = (f: PresenceFacts, s: PsxSource) => f.health[s].status === 'ok';
const unchecked = (f: PresenceFacts, s: PsxSource) => f.health[s].status === 'unchecked';
const seenBy = (f: PresenceFacts) => PSXVIEW_SOURCES.filter((s) => f.seen[s]);

/** Why absence from `s` says little or nothing here ("cidtable unusable in this image (…)"). */
function blame(f: PresenceFacts, s: PsxSource): string {
  const h = f.health[s];
  if (h.status === 'ok') return '';
  return h.status === 'unchecked' ? `${s} not checked (${h.reason})` : `${s} ${h.status} in this image (${h.problem})`;
}

/** The sources not checked, grouped by why ("still checking psscan, thrdscan"; "not checked (scan cancelled): csrss"). */
function pendingText(f: PresenceFacts, sources: readonly PsxSource[]): string {
  const by = (reason: UncheckedReason) => sources.filter((s) => { const h = f.health[s]; return h.status === 'unchecked' && h.reason === reason; });
  const running = by('still running');
  const cancelled = by('scan cancelled');
  return [
    ...(running.length ? [`still checking ${running.join(', ')}`] : []),
    ...(cancelled.length ? [`not checked (scan cancelled): ${cancelled.join(', ')}`] : []),
  ].join('; ');
}

/** For a process on the active list: each source that did not see it, by what its absence means. */
function absences(f: PresenceFacts) {
  const missing = PSXVIEW_SOURCES.filter((s) => !f.seen[s]);
  const expected = (s: PsxSource) => expectedAbsent(s, f.name);
  return {
    missing,
    /** Not seen, and not expected to be, by a source that worked: the accusation. */
    unexplained: missing.filter((s) => !expected(s) && ok(f, s)),
    /** Not seen by a source that was never checked. */
    pending: missing.filter((s) => unchecked(f, s)),
    asExpected: missing.filter((s) => expected(s) && !unchecked(f, s)),
    /** Not seen by a source the image left incomplete or unusable. */
    blind: missing.filter((s) => !expected(s) && !ok(f, s) && !unchecked(f, s)),
  };
}

interface Rule {
  readonly status: ProcessStatusWord;
  readonly when: (f: PresenceFacts) => boolean;
  /** The sentence after the word. */
  readonly says: (f: PresenceFacts) => string;
}

const exitedAt = (f: PresenceFacts) => (f.exitTime === null ? '' : `exited at ${f.exitTime}; `);
const listed = (f: PresenceFacts) => f.seen.pslist;

/** The table, first match wins. Each rule states when it applies and what it says. */
export const PRESENCE_RULES: readonly Rule[] = [
  {
    status: 'remnant', when: (f) => f.unmappedPa !== null,
    says: (f) => `${exitedAt(f)}only in unmapped physical memory (PA ${hex(f.unmappedPa!)}, virtual address unknown)`,
  },
  { status: 'remnant', when: (f) => f.freedPoolBlock && !listed(f), says: (f) => `${exitedAt(f)}freed pool block` },
  { status: 'exited', when: (f) => f.exitTime !== null, says: (f) => `at ${f.exitTime}${listed(f) ? ' but still on the active list' : ''}` },
  // on the active list: accused by a source that worked, else open while a source is unchecked, else normal
  {
    status: 'suspicious', when: (f) => listed(f) && absences(f).unexplained.length > 0,
    says: (f) => {
      const a = absences(f);
      return [`on the active list; not seen by ${a.unexplained.join(', ')}`, ...a.blind.map((s) => blame(f, s)), ...(a.pending.length ? [pendingText(f, a.pending)] : [])].join('; ');
    },
  },
  {
    status: 'unchecked', when: (f) => listed(f) && absences(f).pending.length > 0,
    says: (f) => `on the active list; ${pendingText(f, absences(f).pending)}`,
  },
  { status: 'normal', when: (f) => listed(f) && absences(f).missing.length === 0, says: () => 'listed everywhere' },
  {
    status: 'normal', when: listed,
    says: (f) => {
      const a = absences(f);
      const notes = [...(a.asExpected.length ? [`not in ${a.asExpected.join('/')}, as expected for ${f.name}`] : []), ...a.blind.map((s) => blame(f, s))];
      return `on the active list (${notes.join('; ')})`;
    },
  },
  // off the active list: only a list that worked can say a process was unlinked from it
  { status: 'unchecked', when: (f) => !ok(f, 'pslist'), says: (f) => `${blame(f, 'pslist')}; seen by ${seenBy(f).join(', ')}` },
  {
    status: 'hidden', when: (f) => THREAD_WITNESSES.some((s) => f.seen[s]),
    says: () => 'unlinked from the active list but has live threads (DKOM)',
  },
  {
    status: 'hidden', when: (f) => OBJECT_WITNESSES.some((s) => f.seen[s]),
    says: (f) => `unlinked from the active list but seen by ${OBJECT_WITNESSES.filter((s) => f.seen[s]).join(', ')} (DKOM)`,
  },
  {
    status: 'unchecked', when: (f) => f.seen.psscan && THREAD_WITNESSES.some((s) => !ok(f, s)),
    says: (f) => `only in pool; live threads not ruled out: ${THREAD_WITNESSES.filter((s) => !ok(f, s)).map((s) => blame(f, s)).join('; ')}`,
  },
  { status: 'remnant', when: (f) => f.seen.psscan, says: () => 'only in pool, no threads' },
  { status: 'unchecked', when: () => true, says: () => 'seen by no source' },
];

/** The status word and the verdict of one process: the first rule of the table that applies. */
export function readPresence(f: PresenceFacts): Presence {
  const rule = PRESENCE_RULES.find((r) => r.when(f))!; // the last rule always applies
  return { status: rule.status, verdict: `${rule.status}: ${rule.says(f)}` };
}
