/**
 * CLI of the process commands on a sample image: JSON rows equal the ground truth field by field,
 * CSV is Excel-ready, --out never overwrites the image, usage errors exit 2.
 */
import { readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../main.js';
import { ROW_FIELDS, SampleSet, pick, type SampleKernel } from '../../engine/plugins/testing/sample-kernel.js';

const set = new SampleSet();
let img: SampleKernel;
beforeAll(async () => { img = await set.build('18362', 'crashdump', 11); });
afterAll(() => set.cleanup());

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (s) => { out += s; }, err: (s) => { err += s; } });
  return { code, out, err };
}

describe('memscope pslist/psscan/psxview/struct/dtb', () => {
  it('pslist --format json: exactly the documented fields, equal to the truth', async () => {
    const r = await cli('pslist', img.path, '--format', 'json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out) as Record<string, unknown>[];
    const want = img.truth.processes.filter((p) => p.foundBy.pslist);
    expect(rows).toHaveLength(want.length);
    for (const row of rows) {
      expect(Object.keys(row)).toEqual([...ROW_FIELDS, 'missing', 'warnings']);
      const t = want.find((p) => p.offset === row['offset'])!;
      expect(pick(row, ROW_FIELDS)).toEqual(pick(t, ROW_FIELDS));
      for (const k of ['offset', 'physicalOffset', 'dtb']) expect(row[k]).toMatch(/^0x[0-9a-f]+$/);
    }
  });

  it('psscan --format csv --out: BOM, RFC 4180 header, one record per pool process', async () => {
    const out = join(set.dir, 'psscan.csv');
    const r = await cli('psscan', img.path, '--format', 'csv', '--out', out);
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
    const text = readFileSync(out, 'utf8');
    expect(text.charCodeAt(0)).toBe(0xfeff);
    const lines = text.slice(1).split('\r\n').filter((l) => l !== '');
    expect(lines[0]).toBe(ROW_FIELDS.join(',') + ',missing,warnings');
    // command lines contain commas/quotes and are quoted, so count records by offset instead
    // a remnant in an unmapped page has no VA: empty offset cell, then its physical offset
    for (const p of img.truth.processes.filter((x) => x.foundBy.psscan)) expect(text).toContain(p.mapped === false ? `,,${p.physicalOffset},` : `,${p.offset},`);
    for (const p of img.truth.processes.filter((x) => !x.foundBy.psscan)) expect(text).not.toContain(`,${p.offset},`);
  });

  it('psxview --format json: source columns and verdicts', async () => {
    const r = await cli('psxview', img.path, '--format', 'json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out) as Record<string, unknown>[];
    const hidden = img.truth.processes.find((p) => p.planted.includes('dkom-unlinked'))!;
    const row = rows.find((x) => x['offset'] === hidden.offset)!;
    expect(Object.keys(row)).toEqual(['offset', 'pid', 'name', 'pslist', 'psscan', 'thrdscan', 'cidtable', 'csrss', 'session', 'exitTime', 'verdict']);
    expect(row['pslist']).toBe(false);
    expect(row['verdict']).toContain('DKOM');
  });

  it('struct --type _EPROCESS --va: decoded fields for the hex view', async () => {
    const p = img.truth.processes.find((x) => x.name === 'LockApp.exe')!;
    const r = await cli('struct', img.path, '--type', '_EPROCESS', '--va', p.offset, '--format', 'json');
    expect(r.code).toBe(0);
    const d = JSON.parse(r.out) as { fields: { name: string; offset: number; raw: string; value: Record<string, unknown> }[]; missing: string[] };
    const f = (n: string) => d.fields.find((x) => x.name === n)!;
    expect(f('ImageFileName').value).toEqual({ kind: 'string', text: 'LockApp.exe' });
    expect(f('UniqueProcessId').value).toMatchObject({ kind: 'pointer', value: `0x${p.pid.toString(16)}`, link: true });
    expect(f('CreateTime').value).toMatchObject({ kind: 'filetime', iso: p.createTime });
    expect(f('ActiveProcessLinks').value).toMatchObject({ kind: 'list-entry' });
    expect(f('Token').value).toMatchObject({ kind: 'ex-fast-ref' });
    expect(f('ImageFileName').raw.startsWith(Buffer.from('LockApp.exe').toString('hex'))).toBe(true);
    expect(d.missing).toEqual([]);
    // the same structure by physical address
    const byPa = await cli('struct', img.path, '--type', '_EPROCESS', '--pa', p.physicalOffset, '--format', 'json');
    const dp = JSON.parse(byPa.out) as { fields: { name: string; value: Record<string, unknown> }[] };
    expect(dp.fields.find((x) => x.name === 'UniqueProcessId')!.value).toMatchObject({ value: `0x${p.pid.toString(16)}` });
  });

  it('dtb --processes --format json: per-process DirBase section with Rekall totals', async () => {
    const r = await cli('dtb', img.path, '--processes', '--format', 'json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as { processes: { name: string; lowBits: string; verdict: string }[]; processTotals: { rekallWouldDrop: number } };
    const bits = img.truth.processes.filter((p) => (p.foundBy.pslist || p.foundBy.psscan) && (BigInt(p.dtb) & 0xfffn) !== 0n);
    expect(doc.processTotals.rekallWouldDrop).toBe(bits.length);
    expect(doc.processes.find((x) => x.name === 'LockApp.exe')!.verdict).toMatch(/^valid/);
  });

  it('dtb --processes --format csv --out and struct --format csv: the same tables for Excel', async () => {
    const out = join(set.dir, 'dtb.csv');
    const r = await cli('dtb', img.path, '--processes', '--format', 'csv', '--out', out);
    expect(r.code).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text.startsWith('\ufeffpid,name,offset,dtb,lowBits,')).toBe(true);
    const records = text.slice(1).split('\r\n').filter((l) => l !== '');
    const want = img.truth.processes.filter((p) => p.foundBy.pslist || p.foundBy.psscan);
    expect(records).toHaveLength(want.length + 1);
    const lockApp = img.truth.processes.find((p) => p.name === 'LockApp.exe')!;
    expect(records.some((l) => l.includes(',LockApp.exe,') && l.includes(`,${lockApp.dtb},`))).toBe(true);

    const eproc = img.truth.processes.find((p) => p.foundBy.pslist && p.pid === 4)!;
    const s = await cli('struct', img.path, '--type', '_EPROCESS', '--va', eproc.offset, '--format', 'csv');
    expect(s.code).toBe(0);
    const rows = s.out.slice(1).split('\r\n');
    expect(rows[0]).toBe('offset,name,type,size,raw,value');
    expect(rows.find((l) => l.includes(',ImageFileName,'))).toContain('System');
  });

  it('refuses --out that is the input image (same path or a symlink to it), exit 2, image untouched', async () => {
    const before = readFileSync(img.path).subarray(0, 4096);
    const link = join(set.dir, 'link.img');
    symlinkSync(img.path, link);
    for (const out of [img.path, link]) {
      const r = await cli('pslist', img.path, '--format', 'json', '--out', out);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/refusing to overwrite/);
    }
    expect(readFileSync(img.path).subarray(0, 4096)).toEqual(before);
  });

  it('usage errors exit 2 with one line', async () => {
    expect((await cli('pslist', img.path, '--format', 'xml')).code).toBe(2);
    expect((await cli('struct', img.path, '--type', '_EPROCESS')).err).toMatch(/exactly one of --va/);
    expect((await cli('struct', img.path, '--type', '_NOPE', '--va', '0xfffff80000000000')).code).toBe(2);
    expect((await cli('struct', img.path, '--type', '_EPROCESS', '--va', 'zz')).code).toBe(2);
    expect((await cli('pslist', join(set.dir, 'missing.raw'))).code).toBe(1);
  });
});
