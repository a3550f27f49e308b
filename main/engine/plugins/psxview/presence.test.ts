/**
 * The presence table, walked whole: every combination of the six sources seen or not, each source's
 * health (ok, incomplete or unusable, not checked), exited or not, in a freed pool block or not, in an
 * unmapped page or not, for a process every source should see and one csrss/session legitimately
 * miss. For each, the status word and the sentence must agree: the sentence starts with the word,
 * and what the word claims holds of the facts and is what the sentence says.
 */
import { describe, expect, it } from 'vitest';
import { PSXVIEW_SOURCES, type PsxSource } from '../../../../common/process-vocabulary.js';
import { expectedAbsent, readPresence, seenValue, type PresenceFacts, type SourceHealth } from './presence.js';

/** Per source: ok, broken (incomplete for some sources, unusable for the others: the table reads both alike), not checked. */
const healthStates = (i: number): readonly SourceHealth[] => [
  { status: 'ok' },
  i % 2 ? { status: 'incomplete', problem: 'walk ended at 0x4141' } : { status: 'unusable', problem: 'points to itself' },
  { status: 'unchecked', reason: i % 3 ? 'scan cancelled' : 'still running' },
];
const STATES = 3;
const LIVE: readonly PsxSource[] = ['thrdscan', 'cidtable', 'csrss', 'session'];

function* combinations(): Generator<PresenceFacts> {
  const n = PSXVIEW_SOURCES.length;
  for (const name of ['lsass.exe', 'smss.exe']) {
    for (let seenBits = 0; seenBits < 1 << n; seenBits++) {
      const seen = Object.fromEntries(PSXVIEW_SOURCES.map((s, i) => [s, (seenBits >> i & 1) === 1])) as Record<PsxSource, boolean>;
      // an unmapped page is only ever seen by psscan (its VA is unknown to every other source)
      const unmapped = PSXVIEW_SOURCES.every((s) => seen[s] === (s === 'psscan')) ? [null, 0x1224410] : [null];
      for (let h = 0; h < STATES ** n; h++) {
        const health = Object.fromEntries(PSXVIEW_SOURCES.map((s, i) => [s, healthStates(i)[Math.floor(h / STATES ** i) % STATES]!])) as Record<PsxSource, SourceHealth>;
        for (const exitTime of [null, '2024-01-02T03:04:05.000Z']) {
          for (const freedPoolBlock of [false, true]) {
            for (const unmappedPa of unmapped) yield { name, seen, health, exitTime, freedPoolBlock, unmappedPa };
          }
        }
      }
    }
  }
}

const isOk = (f: PresenceFacts, s: PsxSource) => f.health[s].status === 'ok';
const isUnchecked = (f: PresenceFacts, s: PsxSource) => f.health[s].status === 'unchecked';

/** What must hold of the facts when the table says `status`, and what its sentence must say; null when it does. */
function disagreement(f: PresenceFacts, status: string, verdict: string): string | null {
  if (!verdict.startsWith(`${status}: `) || verdict.length <= status.length + 2) return 'the sentence does not start with the word';
  const missedUnexpectedly = PSXVIEW_SOURCES.filter((s) => !f.seen[s] && !expectedAbsent(s, f.name));
  const notSeenBy = /not seen by ([a-z, ]+)/.exec(verdict)?.[1]?.split(', ') ?? [];
  if (notSeenBy.some((s) => !isOk(f, s as PsxSource))) return 'accuses with a source that was not checked or is not usable';
  switch (status) {
    case 'remnant':
      if (f.seen.pslist && f.unmappedPa === null) return 'a listed process called a remnant';
      if (f.unmappedPa === null && !f.freedPoolBlock && !['thrdscan', 'cidtable'].every((s) => isOk(f, s as PsxSource))) return 'remnant while live threads are not ruled out';
      if (f.unmappedPa === null && !f.freedPoolBlock && LIVE.some((s) => f.seen[s])) return 'remnant with live witnesses';
      return null;
    case 'exited':
      return f.exitTime !== null && verdict.includes(f.exitTime) ? null : 'exited without its exit time';
    case 'hidden':
      if (f.seen.pslist || !isOk(f, 'pslist')) return 'hidden without a working list that misses it';
      if (!LIVE.some((s) => f.seen[s])) return 'hidden without a live witness';
      return f.exitTime === null && !f.freedPoolBlock && /DKOM/.test(verdict) ? null : 'hidden sentence does not say DKOM';
    case 'suspicious':
      if (!f.seen.pslist || f.exitTime !== null) return 'suspicious off the list or exited';
      return notSeenBy.length > 0 && notSeenBy.every((s) => missedUnexpectedly.includes(s as PsxSource)) ? null : 'suspicious without naming who missed it';
    case 'normal':
      if (!f.seen.pslist || f.exitTime !== null || f.unmappedPa !== null) return 'normal off the list, exited or unmapped';
      if (missedUnexpectedly.some((s) => isOk(f, s))) return 'normal though a working source missed it';
      if (PSXVIEW_SOURCES.some((s) => !f.seen[s] && isUnchecked(f, s))) return 'normal though a source was not checked';
      return null;
    case 'unchecked':
      return /not checked|still checking|unusable|incomplete|seen by no source/.test(verdict) ? null : 'unchecked without saying what was not checked';
    default:
      return `unknown word ${status}`;
  }
}

describe('the presence table', () => {
  it('word and sentence agree for every combination of sources, health, exit, freed block and unmapped page', () => {
    const bad: string[] = [];
    let n = 0;
    const words = new Set<string>();
    for (const f of combinations()) {
      n++;
      const { status, verdict } = readPresence(f);
      words.add(status);
      const why = disagreement(f, status, verdict);
      if (why && bad.length < 5) bad.push(`${why}: ${JSON.stringify(f)} → ${verdict}`);
      for (const s of PSXVIEW_SOURCES) {
        if (seenValue(f, s) === null && !(isUnchecked(f, s) && !f.seen[s])) bad.push(`${s} null though checked or seen`);
      }
    }
    expect(bad).toEqual([]);
    expect(n).toBe(2 * (64 + 1) * 3 ** 6 * 2 * 2);
    expect([...words].sort()).toEqual(['exited', 'hidden', 'normal', 'remnant', 'suspicious', 'unchecked']);
  });

  const ok = Object.fromEntries(PSXVIEW_SOURCES.map((s) => [s, { status: 'ok' }])) as Record<PsxSource, SourceHealth>;
  const facts = (seen: PsxSource[], over: Partial<PresenceFacts> = {}): PresenceFacts => ({
    name: 'winupd.exe', seen: Object.fromEntries(PSXVIEW_SOURCES.map((s) => [s, seen.includes(s)])) as Record<PsxSource, boolean>,
    health: ok, exitTime: null, freedPoolBlock: false, unmappedPa: null, ...over,
  });

  it('the cases the two old rules answered differently now read alike', () => {
    // off the list, seen only by csrss: the old word was "hidden", the old sentence "seen only by csrss"
    expect(readPresence(facts(['psscan', 'csrss']))).toEqual({ status: 'hidden', verdict: 'hidden: unlinked from the active list but seen by csrss (DKOM)' });
    // the active list unusable: the old word was "normal" while the sentence blamed the list
    expect(readPresence(facts(['psscan', 'thrdscan'], { health: { ...ok, pslist: { status: 'unusable', problem: 'PsActiveProcessHead points to itself' } } })))
      .toEqual({ status: 'unchecked', verdict: 'unchecked: pslist unusable in this image (PsActiveProcessHead points to itself); seen by psscan, thrdscan' });
    // only in pool while the thread scan is blind: the old word was "remnant", the sentence "live threads not ruled out"
    expect(readPresence(facts(['psscan'], { health: { ...ok, thrdscan: { status: 'unusable', problem: 'no Thre block' } } })).status).toBe('unchecked');
  });

  it('a cancelled scan accuses nobody: unchecked sources are neither seen nor not seen', () => {
    const cancelled = { status: 'unchecked', reason: 'scan cancelled' } as const;
    const f = facts(['pslist'], { name: 'System', health: { ...ok, psscan: cancelled, thrdscan: cancelled, cidtable: cancelled, csrss: cancelled, session: cancelled } });
    expect(readPresence(f)).toEqual({ status: 'unchecked', verdict: 'unchecked: on the active list; not checked (scan cancelled): psscan, thrdscan, cidtable, csrss, session' });
    expect(PSXVIEW_SOURCES.map((s) => seenValue(f, s))).toEqual([true, null, null, null, null, null]);
    expect(readPresence(facts(PSXVIEW_SOURCES.slice()))).toEqual({ status: 'normal', verdict: 'normal: listed everywhere' });
  });
});
