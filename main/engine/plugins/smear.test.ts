// Live memory changes while it is read. pslist, psscan and psxview on a sample image through the fault
// injector (sources/fault-injecting.ts) under an analysis session: list links rewritten mid-walk, a
// process exiting mid-scan, torn pages, failed pages, I/O errors. Every result stays made of real
// processes, each inconsistency is a warning naming the structure, the session goes on serving, and
// a re-run without faults gives the clean answer.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent, RunOutcome } from '../../../common/contract.js';
import { buildSample, type GroundTruth } from '../sample/index.js';
import { openSource } from '../sources/detect.js';
import { FaultInjectingSource, type FaultPlan } from '../sources/fault-injecting.js';
import { PageCachedSource } from '../sources/page-cache.js';
import { openSession, type AnalysisSession } from '../session/session.js';
import { profileProviders } from '../session/profile-providers.js';
import { hex } from '../util/hex.js';
import { collectPslist } from './pslist/index.js';
import { collectPsscan } from './psscan/index.js';
import {
  RANDOM_FAULTS, exitSmear as exitSmearOf, exitWarning, listSmear as listSmearOf, paOf as kernelPa, unlinkWarning,
} from './testing/smear-plans.js';

type Plugin = 'pslist' | 'psscan' | 'psxview';
interface Run { outcome: RunOutcome; error: string | null; keys: string[]; warnings: string[] }

let dir = '';
let image = '';
let truth: GroundTruth;
const clean = new Map<Plugin, Run>();
const opened: AnalysisSession[] = [];

async function open(): Promise<{ session: AnalysisSession; faults: FaultInjectingSource }> {
  const faults = new FaultInjectingSource(openSource(image));
  const session = await openSession(faults, { store: profileProviders() });
  opened.push(session);
  return { session, faults };
}

/** The engine's page cache over the faulty source starts empty, as a fresh read of live memory does. */
function dropCache(session: AnalysisSession): void {
  const cache = session.kernel.source;
  expect(cache).toBeInstanceOf(PageCachedSource);
  (cache as PageCachedSource).clear();
}

async function run(session: AnalysisSession, plugin: Plugin): Promise<Run> {
  const events: RunEvent[] = await session.collect({ plugin });
  const done = events.find((e) => e.type === 'done');
  if (done?.type !== 'done') throw new Error(`${plugin}: no done event`);
  return {
    outcome: done.outcome,
    error: done.error,
    keys: [...new Set(events.flatMap((e) => (e.type === 'row' ? [e.key] : [])))].sort(), // psxview re-sends a row as sources complete
    warnings: events.flatMap((e) => (e.type === 'warning' ? [e.message] : [])),
  };
}

/** Physical address of a kernel VA in the session's kernel space. */
const paOf = (session: AnalysisSession, va: bigint): number => kernelPa(session.kernel, va);
const listSmear = (session: AnalysisSession) => listSmearOf(session.kernel);
const exitSmear = (session: AnalysisSession) => exitSmearOf(session.kernel, truth);

/** Every row of a run is a process of the image: its key names a truth process's EPROCESS (VA or PA). */
function realProcessKeys(keys: readonly string[]): string[] {
  const known = new Set(truth.processes.flatMap((p) => [p.offset, p.physicalOffset]));
  return keys.filter((k) => ![...known].some((o) => k.includes(o)));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'memscope-smear-'));
  image = join(dir, 's19041.raw');
  truth = await buildSample({ build: '19041', format: 'raw', out: image, sizeMiB: 64, seed: 5, processes: 10 });
  const { session } = await open();
  for (const plugin of ['pslist', 'psscan', 'psxview'] as const) clean.set(plugin, await run(session, plugin));
}, 180_000);

afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('the clean runs the faulty ones are compared with', () => {
  it('find the truth\'s processes without warnings', () => {
    for (const plugin of ['pslist', 'psscan', 'psxview'] as const) {
      const r = clean.get(plugin)!;
      expect(r.outcome, plugin).toBe('completed');
      expect(r.warnings, plugin).toEqual([]);
      expect(r.keys.length, plugin).toBeGreaterThan(8);
      expect(realProcessKeys(r.keys), plugin).toEqual([]);
    }
  });
});

describe('smear: memory changes between two reads of one walk or scan', () => {
  it('a process exits during pslist: its neighbours are relinked behind the walk, which warns naming _EPROCESS.ActiveProcessLinks', async () => {
    const { session, faults } = await open();
    const smear = await listSmear(session);
    const { listed, b } = smear;
    const linksOff = BigInt(session.kernel.profile.offsetOf('_EPROCESS', 'ActiveProcessLinks'));
    faults.inject(smear.plan);
    dropCache(session);

    const smeared = await run(session, 'pslist');
    expect(smeared.outcome).toBe('completed');
    expect(faults.counts.changesLanded).toBe(2);
    expect(smeared.warnings).toEqual([unlinkWarning(smear)]);
    // The walk had passed A when B left: it still lists B (as it was), nothing twice, nothing invented.
    expect(smeared.keys).toEqual(clean.get('pslist')!.keys);

    // Read again, the memory after the change is a consistent list without B, and without warnings.
    dropCache(session);
    const after = await collectPslist(session.kernel);
    expect(after.warnings).toEqual([]);
    expect(after.rows.map((r) => BigInt(r.offset!) + linksOff)).toEqual(listed.filter((x) => x !== b));

    // The session goes on: the other views run on the changed memory; psxview shows B's exit as a warning too.
    expect((await run(session, 'psscan')).outcome).toBe('completed');
    const view = await run(session, 'psxview');
    expect(view.outcome).toBe('completed');
    expect(realProcessKeys(view.keys)).toEqual([]);
    // With the memory back as it was, a fresh walk gives the clean list.
    faults.restore();
    dropCache(session);
    const restored = await collectPslist(session.kernel);
    expect(restored.warnings).toEqual([]);
    expect(restored.rows.map((r) => BigInt(r.offset!) + linksOff)).toEqual(listed);
  });

  it('a process exits during psscan: its pool block is cleared after the scan read its tag; a warning names the _POOL_HEADER', async () => {
    const { session, faults } = await open();
    const { plan, headerPa, victim } = exitSmear(session);
    faults.inject(plan);
    dropCache(session);

    const smeared = await run(session, 'psscan');
    expect(smeared.outcome).toBe('completed');
    expect(faults.counts.changesLanded).toBe(1);
    expect(smeared.warnings).toEqual([exitWarning(headerPa)]);
    // Exactly the exited process is gone; every other row is the clean scan's.
    const gone = clean.get('psscan')!.keys.filter((k) => !smeared.keys.includes(k));
    expect(gone.length).toBe(1);
    expect(gone[0]).toContain(victim.offset);
    expect(smeared.keys.filter((k) => !clean.get('psscan')!.keys.includes(k))).toEqual([]);

    // Re-run without the change: the clean answer, in the same session's engine.
    faults.restore();
    dropCache(session);
    const again = await collectPsscan(session.kernel);
    expect(again.warnings).toEqual([]);
    expect(again.rows.length).toBe(clean.get('psscan')!.keys.length);
  });
});

describe('a torn _EPROCESS (the page cache copied its page while the kernel wrote it)', () => {
  /**
   * The cache's read of a process's body page is torn from the body's first byte on. psscan: the 2nd
   * read covering it (after the scan's). psxview walks the active list before it scans, so there the
   * victim is one the list does not hold (unlinked), and the cache's read is the 1st: its thread
   * scan asks for the owning EPROCESS of a thread block lower in memory before the scan reaches it.
   */
  function tornBody(session: AnalysisSession, linked = true): { plan: FaultPlan; bodyPa: number; victim: GroundTruth['processes'][number] } {
    const victim = truth.processes.find((p) => p.foundBy.psscan && p.foundBy.pslist === linked && p.pid !== 4 && p.planted.every((x) => !x.includes('remnant') && x !== 'freed-pool-block') && p.poolHeader !== undefined && !p.straddles)!;
    expect(victim).toBeDefined();
    const bodyPa = paOf(session, BigInt(victim.offset));
    return { plan: { seed: 3, tears: [{ pa: bodyPa, read: linked ? 2 : 1 }] }, bodyPa, victim };
  }
  const tornWarning = (bodyPa: number): string => `_EPROCESS at PA ${hex(bodyPa)} changed while it was read (torn page); re-read`;

  it.each(['psscan', 'psxview'] as const)('%s re-reads it past the cache: the process is found, and one warning names the _EPROCESS', async (plugin) => {
    const { session, faults } = await open();
    const { plan, bodyPa, victim } = tornBody(session, plugin === 'psscan');
    faults.inject(plan);
    dropCache(session);
    const torn = await run(session, plugin);
    expect(faults.counts.tornPages).toBe(1);
    expect(torn.outcome).toBe('completed');
    expect(torn.warnings).toEqual([tornWarning(bodyPa)]);
    expect(torn.keys).toEqual(clean.get(plugin)!.keys);
    expect(torn.keys.some((k) => k.includes(victim.offset))).toBe(true);
  });

  it('torn again on the re-read: psscan leaves it out, but says so; the scan re-run later finds it', async () => {
    const { session, faults } = await open();
    const { bodyPa, victim } = tornBody(session);
    faults.inject({ seed: 3, tears: [{ pa: bodyPa, read: 2 }, { pa: bodyPa, read: 3 }] });
    dropCache(session);
    const torn = await collectPsscan(session.kernel);
    expect(torn.warnings).toEqual([tornWarning(bodyPa)]);
    expect(torn.rows.some((r) => r.offset === BigInt(victim.offset))).toBe(false);
    expect(torn.rows.length).toBe(clean.get('psscan')!.keys.length - 1);
    dropCache(session);
    const again = await collectPsscan(session.kernel);
    expect(again.warnings).toEqual([]);
    expect(again.rows.length).toBe(clean.get('psscan')!.keys.length);
  });
});

describe('psxview while a process exits', () => {
  it('its list pass warns naming _EPROCESS.ActiveProcessLinks; every row is a real process of the clean view', async () => {
    const { session, faults } = await open();
    const unlink = await listSmear(session);
    faults.inject(unlink.plan);
    dropCache(session);
    const view = await run(session, 'psxview');
    expect(view.outcome).toBe('completed');
    expect(faults.counts.changesLanded).toBe(2);
    expect(view.warnings).toEqual([unlinkWarning(unlink)]);
    expect(view.keys).toEqual(clean.get('psxview')!.keys);
  });
});

describe('torn pages, failed pages and I/O errors at random (seeded)', () => {
  // torn pages too: a process whose _EPROCESS tears mid-read is read again past the page cache (psscan's re-read): found, or a warning names it
  const plans = RANDOM_FAULTS;

  it.each(plans)('$name: every run ends (completed with warnings, or failed with a typed error), then re-runs clean', (plan) => survives(plan));


  async function survives(plan: FaultPlan & { name: string }): Promise<void> {
    const { session, faults } = await open();
    const tally: string[] = [];
    for (const plugin of ['pslist', 'psscan', 'psxview'] as const) {
      faults.inject(plan);
      dropCache(session);
      const faulty = await run(session, plugin);
      if (faulty.outcome === 'failed') {
        expect(faulty.error, plugin).toMatch(/injected I\/O error|not readable|cannot|could not/);
      } else {
        expect(faulty.outcome, plugin).toBe('completed');
        // Nothing invented: every row's key is a process of the image (a torn field may read wrong; the key is the EPROCESS).
        expect(realProcessKeys(faulty.keys), `${plugin}: ${faulty.warnings.join(' | ')}`).toEqual([]);
        // A table that lost rows says why: never a silently shorter list.
        const lost = clean.get(plugin)!.keys.filter((k) => !faulty.keys.includes(k));
        if (lost.length > 0) expect(faulty.warnings.length, `${plugin} lost ${lost.join(', ')} silently`).toBeGreaterThan(0);
      }
      tally.push(`${plugin}: ${faulty.outcome}, ${faulty.keys.length}/${clean.get(plugin)!.keys.length} rows, ${faulty.warnings.length} warnings`);
      // A failed run is not kept: the same session runs it again; a completed one is replayed as kept,
      // so the re-run without faults goes through the engine itself.
      faults.restore();
      dropCache(session);
      if (faulty.outcome === 'failed') {
        expect(await run(session, plugin), plugin).toEqual(clean.get(plugin));
      }
    }
    const injected = faults.counts.tornPages + faults.counts.failedPages + faults.counts.ioErrors;
    console.log(`smear ${plan.name}: ${tally.join('; ')}; injected ${JSON.stringify(faults.counts)}`);
    expect(injected).toBeGreaterThan(0);
    const fresh = { pslist: await collectPslist(session.kernel), psscan: await collectPsscan(session.kernel) };
    expect(fresh.pslist.warnings).toEqual([]);
    expect(fresh.psscan.warnings).toEqual([]);
    expect(fresh.pslist.rows.length).toBe(clean.get('pslist')!.keys.length);
    expect(fresh.psscan.rows.length).toBe(clean.get('psscan')!.keys.length);
  }
});
