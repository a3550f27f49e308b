/**
 * The DTB inspector on DirBases a responder must be warned about, each planted by the sample builder
 * (`dirBaseFaults`) on one named process, and the verdict asserted word for word. The other processes
 * of the same image stay valid, so a plugin that always said "valid" (or always "invalid") fails.
 * The verdict texts are in ../testing/dtb-verdicts.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TruthProcess } from '../../sample/index.js';
import { collectPslist } from '../pslist/index.js';
import { collectPsscan } from '../psscan/index.js';
import { psxview, PSXVIEW_SOURCES } from '../psxview/index.js';
import { inspectDtbs, type DtbInspectRow } from './index.js';
import { SampleSet, pick, type SampleKernel } from '../testing/sample-kernel.js';
import { NO_SELF_REFERENCE, VALID_ALIGNED, ZERO_ON_RUNNING, kernelHalfSlots, kernelImageEntryTampered, notAPageTable, validVerdictFor } from '../testing/dtb-verdicts.js';
const victim = (img: SampleKernel, fault: string): TruthProcess => {
  const p = img.truth.processes.find((x) => x.planted.includes(`dirbase-${fault}`));
  if (!p) throw new Error(`no process planted with ${fault}`);
  return p;
};

describe('DTB inspector verdicts on planted bad DirBases (Windows 10 2004, 19041)', () => {
  const set = new SampleSet();
  let img: SampleKernel;
  let rows: DtbInspectRow[];
  const row = (fault: string): DtbInspectRow => rows.find((r) => r.offset === victim(img, fault).offset)!;
  beforeAll(async () => {
    img = await set.build('19041', 'raw', 5, 64, {
      'not-a-page-table': 'lsass.exe', 'tampered-kernel-half': 'services.exe', 'no-self-reference': 'wininit.exe',
      'garbage-user-dtb': 'dwm.exe', 'zero-dtb': 'winlogon.exe',
    });
    rows = inspectDtbs(img.kernel, (await collectPslist(img.kernel)).rows).rows;
  });
  afterAll(() => set.cleanup());

  it('a DirBase pointing at a page of file text: not a page table', () => {
    expect(row('not-a-page-table').verdict).toBe(notAPageTable(victim(img, 'not-a-page-table').dtb, kernelHalfSlots(img.truth)));
  });

  it("a PML4 whose kernel-image entry differs from System's: tampered, and which entry", () => {
    expect(row('tampered-kernel-half').verdict).toBe(kernelImageEntryTampered(kernelHalfSlots(img.truth)));
    expect(row('tampered-kernel-half').kernelHalfMatchesSystem).toBe(false);
  });

  it('a PML4 without its self-map entry', () => {
    expect(row('no-self-reference').verdict).toBe(NO_SELF_REFERENCE);
    expect(row('no-self-reference').selfReferences).toBe(false);
  });

  it('a KVA-shadow user DTB that is garbage: the kernel DirBase is fine, the user one is not', () => {
    expect(row('garbage-user-dtb').userDtb).toBe('0x4141414141414141');
    expect(row('garbage-user-dtb').verdict).toBe('suspicious: KVA-shadow user DTB 0x4141414141414141 is not in physical memory (kernel DirBase itself is valid)');
  });

  it('a zero DirBase on a running process', () => {
    expect(victim(img, 'zero-dtb').exitTime).toBeNull();
    expect(row('zero-dtb').verdict).toBe(ZERO_ON_RUNNING);
  });

  it('every other process is valid, in the words that say why', () => {
    const victims = new Set(img.truth.processes.filter((p) => p.planted.some((x) => x.startsWith('dirbase-'))).map((p) => p.offset));
    expect(victims.size).toBe(5);
    const others = rows.filter((r) => !victims.has(r.offset!));
    expect(others.length).toBeGreaterThan(10);
    for (const r of others) expect(r.verdict, `${r.name} ${r.dtb}`).toBe(validVerdictFor(r.dtb!));
  });

  it('psscan and psxview see the faulted processes as the truth says (a zero DirBase is invalid to every source but the list)', async () => {
    const zero = victim(img, 'zero-dtb');
    expect(zero.foundBy).toEqual({ pslist: true, psscan: false, thrdscan: false, cidtable: false, csrss: false, session: false });
    const { rows: scanned } = await collectPsscan(img.kernel);
    for (const f of ['not-a-page-table', 'tampered-kernel-half', 'no-self-reference', 'garbage-user-dtb', 'zero-dtb']) {
      const p = victim(img, f);
      expect(scanned.some((r) => r.offset === BigInt(p.offset)), f).toBe(p.foundBy.psscan);
    }
    const { rows: psx } = await psxview(img.kernel);
    for (const f of ['not-a-page-table', 'tampered-kernel-half', 'no-self-reference', 'garbage-user-dtb', 'zero-dtb']) {
      const p = victim(img, f);
      expect(pick(psx.find((r) => r.offset === BigInt(p.offset))!, PSXVIEW_SOURCES), f).toEqual(pick(p.foundBy, PSXVIEW_SOURCES));
    }
  });
});

describe.each([
  ['7601', 'Windows 7 SP1'],
  ['9600', 'Windows 8.1'],
])('DTB inspector on build %s (%s), which never uses PCID', (build) => {
  const set = new SampleSet();
  let img: SampleKernel;
  beforeAll(async () => { img = await set.build(build, 'crashdump', 6, 64, { 'pcid-bits-without-pcid': 'lsass.exe' }); });
  afterAll(() => set.cleanup());

  it('low bits on a DirBase are suspicious there, and only there', async () => {
    const { rows } = inspectDtbs(img.kernel, (await collectPslist(img.kernel)).rows);
    const p = victim(img, 'pcid-bits-without-pcid');
    expect(BigInt(p.dtb) & 0xfffn).toBe(2n);
    expect(rows.find((r) => r.offset === p.offset)!.verdict).toBe(
      `suspicious: low bits 0x2 set, but build ${build} does not use PCID (its DirBase should be page aligned); the masked PML4 maps the shared kernel half and self-references`,
    );
    for (const r of rows.filter((x) => x.offset !== p.offset)) expect(r.verdict, `${r.name}`).toBe(VALID_ALIGNED);
  });
});
