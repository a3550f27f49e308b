/**
 * The per-build process suite: on sample images of one build in raw, ELF core, full and bitmap crash dump
 * format, every method finds exactly what the ground truth's foundBy says, field by field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SampleFormat, TruthProcess } from '../../sample/index.js';
import { FREED_POOL_BLOCK_NOTE, UNMAPPED_REMNANT_NOTE } from '../../windows/eprocess.js';
import { collectPslist } from '../pslist/index.js';
import { collectPsscan } from '../psscan/index.js';
import { ALL_SOURCES_OK, psxview, PSXVIEW_SOURCES } from '../psxview/index.js';
import { inspectDtbs } from '../dtb-inspect/index.js';
import { imageScan } from '../../scan/scan-fn.js';
import { processRowWire, psxRowWire } from '../../session/wire.js';
import { ROW_FIELDS, SampleSet, pick, type SampleKernel } from './sample-kernel.js';
import { ZERO_ON_RUNNING, kernelHalfSlots, notAPageTable, validVerdictFor } from './dtb-verdicts.js';

const FORMATS: readonly SampleFormat[] = ['raw', 'elf', 'crashdump', 'crashdump-bitmap'];

/** The offset a row must report: the EPROCESS VA, or null for a remnant in a page no page table maps. */
const rowOffset = (p: TruthProcess): string | null => (p.mapped === false ? null : p.offset);
/** The truth fields a row must reproduce. */
const expectedRow = (p: TruthProcess) => ({ ...pick(p, ROW_FIELDS), offset: rowOffset(p) });
const byOffset = <R extends { offset: string | null; physicalOffset?: string | null }>(rows: readonly R[], p: TruthProcess): R | undefined =>
  p.mapped === false ? rows.find((x) => x.offset === null && x.physicalOffset === p.physicalOffset) : rows.find((x) => x.offset === p.offset);

export function processSuite(build: string, seed: number): void {
  describe(`processes on ${build} samples`, () => {
    const set = new SampleSet();
    const images = new Map<SampleFormat, SampleKernel>();
    beforeAll(async () => {
      for (const f of FORMATS) images.set(f, await set.build(build, f, seed + FORMATS.indexOf(f)));
    });
    afterAll(() => set.cleanup());

    describe.each(FORMATS)('%s', (format) => {
      const img = () => images.get(format)!;

      it('pslist lists exactly the linked processes, in list order, every field as the truth says', async () => {
        const { truth, kernel } = img();
        const { rows: listed, warnings } = await collectPslist(kernel);
        const rows = listed.map(processRowWire);
        expect(warnings).toEqual([]);
        const want = truth.processes.filter((p) => p.foundBy.pslist);
        expect(rows.map((r) => r.offset).sort()).toEqual(want.map((p) => p.offset).sort());
        for (const p of want) {
          const r = rows.find((x) => x.offset === p.offset)!;
          expect(pick(r, ROW_FIELDS), `${p.name} (${p.pid})`).toEqual(pick(p, ROW_FIELDS));
          expect(r.missing).toEqual([]);
        }
        expect(rows[0]!.pid).toBe(4); // the list starts at System
      });

      it('psscan finds every pool EPROCESS the truth lists (hidden, exited and freed-block remnants included), no decoys', async () => {
        const { truth, kernel } = img();
        const { rows: scanned, rejected, warnings } = await collectPsscan(kernel);
        const rows = scanned.map(processRowWire);
        expect(warnings).toEqual([]);
        const want = truth.processes.filter((p) => p.foundBy.psscan);
        expect(rows.map((r) => r.offset ?? r.physicalOffset).sort()).toEqual(want.map((p) => rowOffset(p) ?? p.physicalOffset).sort());
        for (const p of want) {
          const r = byOffset(rows, p)!;
          expect(r, `${p.name} (${p.pid}) ${p.planted.join('+')}`).toBeDefined();
          expect(pick(r, ROW_FIELDS), `${p.name} (${p.pid}) ${p.planted.join('+')}`).toEqual(expectedRow(p));
          expect(r.warnings.includes(UNMAPPED_REMNANT_NOTE)).toBe(p.mapped === false);
          expect(r.warnings.includes(FREED_POOL_BLOCK_NOTE), `${p.name} (${p.pid}) ${p.planted.join('+')}`).toBe(p.planted.includes('freed-pool-block'));
        }
        // an intact EPROCESS in a freed pool block (PoolType 0) is a remnant, reported and labelled
        const freed = want.filter((p) => p.planted.includes('freed-pool-block'));
        expect(freed.length).toBeGreaterThan(0);
        for (const p of freed) expect(byOffset(rows, p)!.exitTime).toBe(p.exitTime);
        // a remnant in a physical page no page table maps is found, read physically, nothing missing
        const unmapped = want.filter((p) => p.mapped === false);
        expect(unmapped.length).toBeGreaterThan(0);
        for (const p of unmapped) expect(byOffset(rows, p)!.missing).toEqual([]);
        const exited = want.filter((p) => p.exitTime !== null);
        expect(exited.length).toBeGreaterThan(0);
        for (const d of truth.decoys) {
          expect(rows.some((r) => r.physicalOffset === d.physicalOffset)).toBe(false);
        }
        // aligned decoys are seen and rejected with a reason, not silently missed
        for (const d of truth.decoys.filter((x) => Number(x.physicalOffset) % 16 === 0)) {
          expect(rejected.some((r) => r.pa === Number(d.physicalOffset)), d.why).toBe(true);
        }
        // a freed block whose EPROCESS was overwritten is still rejected, and the reason says it was freed
        const reused = truth.decoys.filter((d) => d.kind === 'freed-pool-block-reused');
        expect(reused.length).toBeGreaterThan(0);
        for (const d of reused) {
          expect(rejected.find((r) => r.pa === Number(d.physicalOffset))?.reason).toMatch(/^EPROCESS in a freed pool block at 0x[0-9a-f]+: /);
        }
        // a PCID-tagged DirBase is kept, never a reason to drop (the Rekall bug)
        const lockApp = rows.find((r) => r.name === 'LockApp.exe');
        expect(lockApp).toBeDefined();
        expect(BigInt(lockApp!.dtb!) & 0xfffn).not.toBe(0n);
        expect(truth.processes.some((p) => p.straddles && p.foundBy.psscan)).toBe(true);
      });

      it('psxview marks every source exactly as the truth foundBy, with verdicts for hidden, exited, remnant', async () => {
        const { truth, kernel } = img();
        const { rows: viewed, sourceHealth, warnings } = await psxview(kernel, format === 'raw' ? { scan: imageScan(img().path, { workers: 2 }) } : {});
        const rows = viewed.map(psxRowWire);
        expect(sourceHealth).toEqual(ALL_SOURCES_OK);
        expect(warnings).toEqual([]);
        const relevant = truth.processes.filter((p) => Object.values(p.foundBy).some(Boolean));
        expect(rows.map((r) => r.offset).sort()).toEqual(relevant.map(rowOffset).sort());
        for (const p of relevant) {
          const r = p.mapped === false
            ? rows.find((x) => x.offset === null && x.verdict.includes(`PA ${p.physicalOffset},`))!
            : rows.find((x) => x.offset === p.offset)!;
          expect(r, `${p.name} (${p.pid}) ${p.planted.join('+')}`).toBeDefined();
          expect(r.pid).toBe(p.pid);
          expect(pick(r, PSXVIEW_SOURCES), `${p.name} (${p.pid}) ${p.planted.join('+')}`).toEqual(pick(p.foundBy, PSXVIEW_SOURCES));
          expect(r.exitTime).toBe(p.exitTime);
          if (p.planted.includes('dkom-unlinked')) expect(r.verdict).toBe('hidden: unlinked from the active list but has live threads (DKOM)');
          if (p.planted.includes('exited')) expect(r.verdict).toMatch(/^exited: at |^remnant: exited at /); // a freed or unmapped block is a remnant first
          if (p.planted.includes('remnant')) expect(r.verdict).toContain('remnant');
          if (p.planted.includes('freed-pool-block')) expect(r.verdict).toBe(`remnant: exited at ${p.exitTime}; freed pool block`);
          if (p.planted.includes('unmapped-remnant')) expect(r.verdict).toMatch(/^remnant: exited at .*; only in unmapped physical memory \(PA 0x[0-9a-f]+, virtual address unknown\)$/);
          if (p.planted.includes('normal') && p.exitTime === null) expect(r.verdict).toMatch(/^normal: /);
          expect(r.verdict.startsWith(`${r.status}: `), r.verdict).toBe(true);
        }
        expect(truth.processes.some((p) => p.planted.includes('dkom-unlinked'))).toBe(true);
      });

      it('psxview status word, per-source evidence and streaming follow the truth', async () => {
        const { truth, kernel } = img();
        const stages: { stage: string; keys: string[] }[] = [];
        const { entries } = await psxview(kernel, { onEvent: (ev) => { if (ev.type === 'rows') stages.push({ stage: ev.stage, keys: ev.entries.map((e) => e.key) }); } });
        // the active list's rows come first, in batches, before the pool scan finds anything
        const first = stages.slice(0, stages.findIndex((s) => s.stage !== 'pslist'));
        expect(first.length).toBeGreaterThan(1);
        expect(first[0]!.keys.length).toBeLessThanOrEqual(8);
        expect([...new Set(first.flatMap((s) => s.keys))].sort()).toEqual(truth.processes.filter((p) => p.foundBy.pslist).map((p) => p.offset).sort());
        expect(stages.filter((s) => s.keys.length === entries.length).map((s) => s.stage).slice(-4)).toEqual(['psscan+thrdscan', 'cidtable', 'csrss', 'session']);
        for (const p of truth.processes.filter((q) => Object.values(q.foundBy).some(Boolean))) {
          const e = entries.find((x) => x.key === (p.mapped === false ? `pa:${p.physicalOffset}` : p.offset))!;
          const what = `${p.name} (${p.pid}) ${p.planted.join('+')}`;
          expect(e, what).toBeDefined();
          const want = p.mapped === false || p.planted.includes('freed-pool-block') ? 'remnant' // a freed pool block (PoolType 0) is a remnant, exited or not
            : p.exitTime !== null ? 'exited'
              : p.planted.includes('dkom-unlinked') ? 'hidden'
                : p.planted.includes('remnant') ? 'remnant'
                  : p.planted.includes('normal') ? 'normal' : null;
          if (want) expect(e.status, what).toBe(want);
          for (const src of PSXVIEW_SOURCES) expect(e.evidence[src], `${what} ${src}`).toMatch(/\S/);
          if (p.foundBy.pslist) expect(e.evidence.pslist).toMatch(/^linked at 0xffff[0-9a-f]+/);
          if (p.foundBy.psscan) expect(e.evidence.psscan).toMatch(/pool block at PA 0x[0-9a-f]+/);
          if (p.foundBy.cidtable) expect(e.evidence.cidtable).toBe(`entry for PID ${p.pid}`);
          if (p.foundBy.csrss) expect(e.evidence.csrss).toMatch(/^handle 0x[0-9a-f]+ in csrss\.exe \(PID \d+\)$/);
          if (p.foundBy.thrdscan) expect(e.evidence.thrdscan).toMatch(/^ETHREAD 0xffff[0-9a-f]+ \(pool block at PA 0x[0-9a-f]+\) belongs to it/);
        }
      });

      it('report fields: the kernel image path survives exit, current directory, parent names, and a plain reason for each absent value', async () => {
        const { truth, kernel } = img();
        const { entries } = await psxview(kernel);
        const PLAIN = /^(no PEB|exited|paged out|outside the image|not recorded by the kernel|no parent \(PPID 0\)|no process with PID \d+ in this image \(the parent exited\)|PID \d+ belongs to a process started after this one \(the parent exited\))$/;
        let exitedWithPath = 0;
        for (const p of truth.processes.filter((q) => q.mapped !== false && Object.values(q.foundBy).some(Boolean))) {
          const e = entries.find((x) => x.key === p.offset)!;
          const r = e.process;
          const what = `${p.name} (${p.pid}) ${p.planted.join('+')}`;
          expect(r.kernelImagePath, what).toBe(p.kernelImagePath ?? null);
          expect(r.currentDirectory, what).toBe(p.currentDirectory ?? null);
          for (const f of ['imagePath', 'commandLine', 'currentDirectory', 'kernelImagePath', 'parentName'] as const) {
            if (r[f] === null) expect(r.whyAbsent[f], `${what} ${f}`).toMatch(PLAIN);
            else expect(r.whyAbsent[f], `${what} ${f}`).toBeUndefined();
          }
          if (p.exitTime !== null && r.imagePath === null && r.kernelImagePath !== null) exitedWithPath++;
          // the parent: the process with PID = PPID created before this one, named as the truth names it
          const parent = truth.processes.find((q) => q.pid === p.ppid && q.offset !== p.offset && Date.parse(q.createTime) <= Date.parse(p.createTime) && Object.values(q.foundBy).some(Boolean));
          expect(r.parentName, what).toBe(parent?.name ?? null);
        }
        expect(exitedWithPath, 'an exited process keeps the kernel image path its PEB lost').toBeGreaterThan(0);
        expect(entries.find((x) => x.row.pid === 4)!.process.whyAbsent).toMatchObject({ imagePath: 'no PEB', parentName: 'no parent (PPID 0)' });
      });

      it('dtb inspector: each DirBase gets the verdict its truth calls for; PCID ones valid and counted as Rekall drops', async () => {
        const { truth, kernel } = img();
        const { rows: procs } = await collectPslist(kernel);
        const { rows, totals } = inspectDtbs(kernel, procs);
        const withBits = truth.processes.filter((p) => p.foundBy.pslist && (BigInt(p.dtb) & 0xfffn) !== 0n);
        expect(withBits.length).toBeGreaterThan(0);
        expect(totals.rekallWouldDrop).toBe(withBits.length);
        expect(totals.valid).toBe(procs.length);
        for (const r of rows) {
          const p = truth.processes.find((x) => x.offset === r.offset)!;
          expect(r.dtb).toBe(p.dtb);
          expect(r.verdict, `${r.name} ${r.dtb}`).toBe(validVerdictFor(p.dtb));
          expect(r.kernelHalfMatchesSystem, `${r.name}`).toBe(true);
          expect(r.selfReferences).toBe(true);
          expect(BigInt(r.pml4!)).toBe(BigInt(r.dtb!) & 0x000ffffffffff000n);
        }
        const lock = rows.find((r) => r.name === 'LockApp.exe')!;
        expect(lock.rekallWouldDrop).toBe(true);
        expect(lock.lowBitsMeaning).toContain('PCID');
        // the same process with its DirBase zeroed, or pointed at a pool page (System's EPROCESS), read through this format
        const lockRow = procs.find((r) => r.offset === BigInt(lock.offset!))!;
        const poolPage = `0x${(BigInt(truth.processes.find((p) => p.pid === 4)!.physicalOffset) & ~0xfffn).toString(16)}`;
        const doctored = inspectDtbs(kernel, [{ ...lockRow, dtb: 0n }, { ...lockRow, dtb: BigInt(poolPage) }]).rows;
        expect(doctored.map((r) => r.verdict)).toEqual([ZERO_ON_RUNNING, notAPageTable(poolPage, kernelHalfSlots(truth))]);
        expect(inspectDtbs(kernel, [{ ...lockRow, dtb: 0n }]).totals.valid).toBe(0);
      });
    });
  });
}
