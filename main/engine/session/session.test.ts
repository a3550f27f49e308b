/**
 * The analysis session on real sample images (sample/ builder, checked against its ground truth):
 * the session header, psxview streaming (pslist rows first, re-sent as each source completes, with
 * status and evidence), kept results replayed without a rescan, cancel, a source failing half-way,
 * dtb and struct runs, and close.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProcessTableRow, RunEvent } from '../../../common/contract.js';
import { MemScopeError } from '../errors.js';
import { hex } from '../util/hex.js';
import { buildSample, type GroundTruth, type TruthProcess } from '../sample/index.js';
import { expectedVerdict, kernelHalfSlots } from '../plugins/testing/dtb-verdicts.js';
import { openSource } from '../sources/detect.js';
import type { PhysicalSource } from '../sources/physical-source.js';
import { openSession, type AnalysisSession } from './session.js';

const dir = mkdtempSync(join(tmpdir(), 'memscope-session-'));
let image = '';
let truth: GroundTruth;

beforeAll(async () => {
  image = join(dir, 's19041.raw');
  truth = await buildSample({ build: '19041', format: 'raw', out: image, sizeMiB: 64, seed: 11, processes: 6 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rowsOf = (events: readonly RunEvent[]) => events.filter((e): e is Extract<RunEvent, { type: 'row' }> => e.type === 'row');
const doneOf = (events: readonly RunEvent[]) => {
  const d = events.filter((e) => e.type === 'done');
  expect(d).toHaveLength(1);
  expect(events[events.length - 1]).toBe(d[0]);
  return d[0] as Extract<RunEvent, { type: 'done' }>;
};
/** The last version of each psxview row, by key. */
const finalRows = (events: readonly RunEvent[]) => {
  const m = new Map<string, ProcessTableRow>();
  for (const e of rowsOf(events)) if (e.plugin === 'psxview') m.set(e.key, e.row);
  return m;
};
const keyOf = (p: TruthProcess) => (p.mapped === false ? `pa:${p.physicalOffset}` : p.offset);

describe('analysis session', () => {
  let s: AnalysisSession;
  beforeAll(async () => { s = await openSession(image, { warmScan: true, workers: 2 }); });
  afterAll(async () => { await s.close(); });

  it('the session header says what was opened and what discovery found', () => {
    const { source, kernel } = s.info;
    expect(source).toMatchObject({ path: image, fileName: 's19041.raw', format: 'raw', size: truth.sizeBytes, live: false });
    expect(kernel.kernelBase).toBe(truth.kernelBase);
    expect(kernel.dtbRaw).toBe(truth.dtb);
    expect(kernel.dtb).toBe(truth.pml4);
    expect(kernel.build).toBe(19041);
    expect(kernel.pdb).toEqual(truth.pdb);
    expect(kernel.profileSource).toBeTruthy();
    expect(kernel.dtbMethod).toBeTruthy();
    expect(s.info.sessionId).toMatch(/^[0-9a-f]+$/);
  });

  it('psxview streams: pslist rows before the scan, re-sent as sources complete, with status and evidence', async () => {
    const events = await s.collect({ plugin: 'psxview' });
    const done = doneOf(events);
    expect(done).toMatchObject({ outcome: 'completed', error: null });
    expect(done.bytesTotal).toBeGreaterThan(0);
    expect(done.bytesDone).toBe(done.bytesTotal);

    const firstScanProgress = events.findIndex((e) => e.type === 'progress');
    const firstRow = events.findIndex((e) => e.type === 'row');
    expect(firstRow).toBeGreaterThanOrEqual(0);
    expect(firstRow).toBeLessThan(firstScanProgress); // the active list's rows do not wait for the pool scan
    const early = rowsOf(events.slice(0, firstScanProgress));
    const linked = truth.processes.filter((p) => p.foundBy.pslist);
    expect(new Set(early.map((e) => e.key))).toEqual(new Set(linked.map((p) => p.offset)));
    for (const e of early) {
      if (e.plugin !== 'psxview') throw new Error('not a psxview row');
      expect(e.row.psxview.verdict).toMatch(/still checking psscan, thrdscan, cidtable, csrss, session$/);
      expect(e.row.evidence.pslist).toMatch(/^linked at 0xffff[0-9a-f]+/);
    }
    // each linked row is sent again once the other sources complete: once after pslist, once per later stage
    const sends = rowsOf(events).filter((e) => e.key === linked[0]!.offset).length;
    expect(sends).toBeGreaterThanOrEqual(4);

    const rows = finalRows(events);
    expect(done.rows).toBe(rows.size);
    expect(new Set(rows.keys())).toEqual(new Set(truth.processes.filter((p) => Object.values(p.foundBy).some(Boolean)).map(keyOf)));
    for (const p of truth.processes) {
      const r = rows.get(keyOf(p));
      if (!r) continue;
      const want = p.mapped === false || p.planted.includes('freed-pool-block') || (p.planted.includes('remnant') && p.exitTime === null) ? 'remnant'
        : p.exitTime !== null ? 'exited' : p.planted.includes('dkom-unlinked') ? 'hidden' : null;
      if (want) expect(r.status, `${p.name} ${p.planted.join('+')}`).toBe(want);
      for (const src of ['pslist', 'psscan', 'thrdscan', 'cidtable', 'csrss', 'session'] as const) {
        if (p.mapped !== false) expect(r.psxview[src], `${p.name} ${src}`).toBe(p.foundBy[src]);
        expect(r.evidence[src], `${p.name} ${src} evidence`).toBeTruthy(); // seen (what) or not (why)
      }
      if (p.foundBy.psscan) expect(r.evidence.psscan).toMatch(/pool block at PA 0x[0-9a-f]+/);
      if (p.foundBy.cidtable) expect(r.evidence.cidtable).toBe(`entry for PID ${p.pid}`);
      if (p.foundBy.csrss) expect(r.evidence.csrss).toMatch(/^handle 0x[0-9a-f]+ in csrss\.exe \(PID \d+\)$/);
      expect(r.psxview.verdict).not.toMatch(/still checking/);
      expect(r.process?.pid).toBe(p.pid);
    }
    const hidden = truth.processes.find((p) => p.planted.includes('dkom-unlinked'))!;
    expect(rows.get(hidden.offset)!.status).toBe('hidden');
    expect(rows.get(hidden.offset)!.evidence.pslist).toBe('not on the PsActiveProcessHead list');
  });

  it('a completed run is replayed from the kept rows, never rescanned', async () => {
    const before = s.result('psxview')!;
    const events = await s.collect({ plugin: 'psxview' });
    expect(events.filter((e) => e.type === 'progress')).toEqual([]);
    expect(doneOf(events)).toMatchObject({ outcome: 'completed', rows: before.rows.size, bytesDone: before.bytesDone });
    expect(rowsOf(events).map((e) => e.key)).toEqual([...before.rows.keys()]);
    expect(s.result('psxview')).toBe(before);
  });

  it('exports the kept table: all rows in the default order, or exactly the given keys in that order', () => {
    const all = s.exportTable('psxview', 'csv', null);
    expect(all.fileName).toBe('s19041.raw.psxview.csv');
    expect(all.text.startsWith('\ufeffoffset,pid,name,pslist,psscan,thrdscan,cidtable,csrss,session,exitTime,verdict,status,ppid,parentName,kernelImagePath,currentDirectory,wow64,whyAbsent\r\n')).toBe(true);
    const keys = [...s.result('psxview')!.rows.keys()];
    const pids = all.text.trim().split('\r\n').slice(1).map((l) => Number(l.split(',')[1]));
    expect(pids).toEqual([...pids].sort((a, b) => a - b));
    const two = [keys[2]!, keys[0]!];
    const some = JSON.parse(s.exportTable('psxview', 'json', two).text) as { offset: string | null }[];
    expect(some.map((r) => r.offset)).toEqual(two.map((k) => hex(s.result('psxview')!.rows.get(k)!.row.offset!)));
    expect(() => s.exportTable('psxview', 'csv', ['0xdeadbeef'])).toThrow(/no row with key "0xdeadbeef"/);
    expect(() => s.exportTable('pslist', 'csv', null)).toThrow(/pslist has not been run/);
  });

  it('dtb inspects every process pslist or psscan found, reusing the kept scan', async () => {
    const events = await s.collect({ plugin: 'dtb' });
    expect(doneOf(events).outcome).toBe('completed');
    const rows = rowsOf(events);
    const want = truth.processes.filter((p) => p.foundBy.pslist || p.foundBy.psscan);
    expect(new Set(rows.map((r) => r.key))).toEqual(new Set(want.map(keyOf)));
    for (const r of rows) {
      const p = want.find((x) => keyOf(x) === r.key)!;
      if (r.plugin === 'dtb') expect(r.row.verdict, `${p.name} ${p.dtb}`).toBe(expectedVerdict(p, kernelHalfSlots(truth)));
    }
    expect(s.result('psscan')?.outcome).toBe('completed'); // the scan dtb ran is kept for the psscan screen
    const psscan = await s.collect({ plugin: 'psscan' });
    expect(psscan.filter((e) => e.type === 'progress')).toEqual([]);
  });

  it('struct: a profile type field by field, with its bytes as hex and ?? where unreadable', async () => {
    const sys = truth.processes.find((p) => p.pid === 4)!;
    const events = await s.collect({ plugin: 'struct', type: '_EPROCESS', address: sys.offset, space: 'virtual' });
    expect(doneOf(events).outcome).toBe('completed');
    const row = rowsOf(events)[0]!;
    if (row.plugin !== 'struct') throw new Error('not a struct row');
    expect(row.row.fields.find((f) => f.name === 'UniqueProcessId')?.value).toMatchObject({ value: expect.stringMatching(/^(0x)?4$/) });
    expect(row.row.bytes).toMatch(/^[0-9a-f]+$/);
    expect(row.row.bytes.length).toBe(row.row.size * 2);
    const unmapped = await s.collect({ plugin: 'struct', type: '_EPROCESS', address: '0xffff800000000000', space: 'virtual' });
    const u = rowsOf(unmapped)[0]!;
    if (u.plugin !== 'struct') throw new Error('not a struct row');
    expect(u.row.bytes).toBe('??'.repeat(u.row.size));
    const bad = await s.collect({ plugin: 'struct', type: '_NO_SUCH_TYPE', address: '0x1000', space: 'physical' });
    expect(doneOf(bad)).toMatchObject({ outcome: 'failed', error: expect.stringMatching(/has no type _NO_SUCH_TYPE/) });
  });
});

describe('cancel and close', () => {
  it('an aborted scan ends cancelled with the bytes it covered and keeps its rows; a re-run scans again', async () => {
    const s = await openSession(image, { workers: 2 });
    try {
      const ac = new AbortController();
      const events: RunEvent[] = [];
      for await (const ev of s.run({ plugin: 'psxview' }, ac.signal)) {
        events.push(ev);
        if (ev.type === 'progress' && ev.bytesDone > 0 && ev.bytesDone < ev.bytesTotal) ac.abort();
      }
      const done = doneOf(events);
      expect(done.outcome).toBe('cancelled');
      expect(done.bytesDone).toBeLessThan(done.bytesTotal);
      expect(done.rows).toBeGreaterThan(0); // the active list's rows were already found
      expect(s.result('psxview')?.outcome).toBe('cancelled');
      for (const r of finalRows(events).values()) expect(r.psxview.verdict).not.toMatch(/still checking/);
      // the sources the cancelled scan never finished are named as not checked, not as "not seen"
      expect([...finalRows(events).values()].some((r) => /not checked \(scan cancelled\): psscan/.test(r.psxview.verdict))).toBe(true);
      const again = await s.collect({ plugin: 'psxview' });
      expect(again.some((e) => e.type === 'progress')).toBe(true);
      expect(doneOf(again).outcome).toBe('completed');
    } finally {
      await s.close();
    }
  });

  it('close cancels the runs in flight, then closes the source', async () => {
    const s = await openSession(image, { workers: 2 });
    const events: RunEvent[] = [];
    const consumed = (async () => { for await (const ev of s.run({ plugin: 'psxview' })) events.push(ev); })();
    await new Promise((r) => setTimeout(r, 20));
    await s.close();
    await consumed;
    expect(doneOf(events).outcome).toBe('cancelled');
    expect(doneOf(await s.collect({ plugin: 'pslist' }))).toMatchObject({ outcome: 'failed', error: expect.stringMatching(/closed/) });
  });

  it('a bug (not a MemScopeError) mid-run still ends failed, naming the file and the plugin', async () => {
    const inner = openSource(image);
    let armed = false;
    const source: PhysicalSource = {
      kind: inner.kind, name: inner.name, size: inner.size, hints: inner.hints, runs: () => inner.runs(),
      read: (address, length) => {
        if (length >= 1 << 20 && address >= inner.size / 2) armed = true;
        if (armed) throw new RangeError('offset out of bounds');
        return inner.read(address, length);
      },
      close: () => inner.close(),
    };
    const s = await openSession(source, { path: image });
    try {
      const done = doneOf(await s.collect({ plugin: 'psxview' }));
      expect(done).toMatchObject({ outcome: 'failed', error: 's19041.raw: psxview stopped on an internal error: offset out of bounds' });
    } finally {
      await s.close();
    }
  });

  it('two runs of the same plugin at once share one scan; export during the scan gives the rows so far', async () => {
    const inner = openSource(image);
    let scanned = 0;
    const source: PhysicalSource = {
      kind: inner.kind, name: inner.name, size: inner.size, hints: inner.hints, runs: () => inner.runs(),
      read: (address, length) => { if (length >= 1 << 20) scanned += length; return inner.read(address, length); },
      close: () => inner.close(),
    };
    const s = await openSession(source);
    try {
      scanned = 0;
      let exportedMidScan: string | null = null;
      const a: RunEvent[] = [];
      const b: RunEvent[] = [];
      const ra = (async () => {
        for await (const ev of s.run({ plugin: 'psscan' })) {
          a.push(ev);
          if (exportedMidScan === null && ev.type === 'progress' && ev.bytesDone < ev.bytesTotal) exportedMidScan = s.exportTable('psscan', 'json', null).text;
        }
      })();
      await new Promise((r) => setTimeout(r, 5));
      const rb = (async () => { for await (const ev of s.run({ plugin: 'psscan' })) b.push(ev); })();
      await Promise.all([ra, rb]);
      const da = doneOf(a);
      const db = doneOf(b);
      expect(da).toMatchObject({ outcome: 'completed' });
      expect(db).toMatchObject({ outcome: 'completed', rows: da.rows, bytesDone: da.bytesDone });
      expect(new Set(rowsOf(b).map((e) => e.key))).toEqual(new Set(rowsOf(a).map((e) => e.key)));
      expect(scanned).toBeLessThan(source.size * 1.5); // one pass over memory, not two
      expect(scanned).toBeGreaterThanOrEqual(source.size * 0.9);
      expect(exportedMidScan).not.toBeNull();
      expect((JSON.parse(exportedMidScan!) as unknown[]).length).toBeLessThanOrEqual(da.rows);
    } finally {
      await s.close();
    }
  });

  it('a source that fails half-way through the scan: the rows found are kept and the run ends failed', async () => {
    const inner = openSource(image);
    let failing = false;
    const source: PhysicalSource = {
      kind: inner.kind, name: inner.name, size: inner.size, hints: inner.hints,
      runs: () => inner.runs(),
      read: (address, length) => {
        if (length >= 1 << 20 && address >= inner.size / 2) failing = true; // the scan reached the second half
        if (failing) throw new MemScopeError('io', `${inner.name}: read error at PA 0x${address.toString(16)} (device gone)`);
        return inner.read(address, length);
      },
      close: () => inner.close(),
    };
    const s = await openSession(source); // no path: discovery and scans run in-process on this source
    try {
      const events = await s.collect({ plugin: 'psxview' });
      const done = doneOf(events);
      expect(failing).toBe(true);
      expect(done.outcome).toBe('failed');
      expect(done.error).toMatch(new RegExp(`^${inner.name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: read error at PA 0x[0-9a-f]+ \\(device gone\\)$`));
      expect(done.rows).toBeGreaterThan(0);
      expect(s.result('psxview')?.rows.size).toBe(done.rows);
      expect(events.some((e) => e.type === 'warning' && /device gone/.test(e.message))).toBe(true);
    } finally {
      await s.close();
    }
  });
});

describe('dtb run on planted bad DirBases', () => {
  let faulted: GroundTruth;
  let s: AnalysisSession;
  beforeAll(async () => {
    const path = join(dir, 's19041-faults.raw');
    faulted = await buildSample({
      build: '19041', format: 'raw', out: path, sizeMiB: 64, seed: 12, processes: 4,
      dirBaseFaults: { 'zero-dtb': 'dwm.exe', 'not-a-page-table': 'lsass.exe', 'no-self-reference': 'wininit.exe' },
    });
    s = await openSession(path, { workers: 2 });
  });
  afterAll(async () => { await s.close(); });

  it('each process gets the verdict its DirBase calls for, in words', async () => {
    const events = await s.collect({ plugin: 'dtb' });
    expect(doneOf(events).outcome).toBe('completed');
    const verdicts = new Map(rowsOf(events).flatMap((r) => (r.plugin === 'dtb' ? [[r.key, r.row.verdict] as const] : [])));
    const want = faulted.processes.filter((p) => p.foundBy.pslist || p.foundBy.psscan);
    expect(verdicts.size).toBe(want.length);
    for (const p of want) expect(verdicts.get(keyOf(p)), `${p.name} ${p.planted.join('+')}`).toBe(expectedVerdict(p, kernelHalfSlots(faulted)));
    expect(want.filter((p) => p.planted.some((x) => x.startsWith('dirbase-')))).toHaveLength(3);
  });
});
