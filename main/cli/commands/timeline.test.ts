/**
 * `memscope timeline` and `--format jsonl` on a real sample image, read back with real parsers:
 * Timesketch CSV through csv-parse (every row has message, datetime, timestamp_desc), JSONL line by
 * line; the events are exactly the truth's creates and exits (hidden, exited and remnant ones too);
 * each table's JSONL lines are the objects of its JSON array.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSample, type GroundTruth } from '../../engine/sample/index.js';
import { cliCaptured as cli } from '../testing/captured.js';

const dir = mkdtempSync(join(tmpdir(), 'memscope-timeline-'));
let image = '';
let truth: GroundTruth;
beforeAll(async () => {
  image = join(dir, 'tl.raw');
  truth = await buildSample({ build: '19041', format: 'raw', out: image, sizeMiB: 64, seed: 21, processes: 4 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));


const REQUIRED = ['message', 'datetime', 'timestamp_desc'] as const;
type Event = Record<string, string | number | null>;

/** The events the truth implies: one per create, one per exit, keyed for comparison. */
function truthEvents(): string[] {
  const out: string[] = [];
  for (const p of truth.processes) {
    const key = p.mapped === false ? `pa:${p.physicalOffset}` : p.offset;
    out.push(`Process Created|${p.createTime}|${p.pid}|${p.ppid}|${p.name}|${key}`);
    if (p.exitTime) out.push(`Process Exited|${p.exitTime}|${p.pid}|${p.ppid}|${p.name}|${key}`);
  }
  return out.sort();
}
const eventKey = (e: Event) => `${e['timestamp_desc']}|${e['datetime']}|${e['pid']}|${e['ppid']}|${e['name']}|${e['eprocess']}`;

describe('memscope timeline', () => {
  it('Timesketch CSV: a real CSV parser reads every event with the three required fields; events equal the truth', async () => {
    const out = join(dir, 'tl.csv');
    const r = await cli('timeline', image, '--format', 'timesketch-csv', '--out', out);
    expect(r.code).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text.charCodeAt(0)).not.toBe(0xfeff); // no BOM: Timesketch must see "message" as the first header
    const rows = parse(text, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
    expect(rows.length).toBe(truthEvents().length);
    for (const row of rows) {
      for (const f of REQUIRED) expect(row[f], `${f} of ${JSON.stringify(row)}`).toBeTruthy();
      expect(new Date(row['datetime']!).toISOString()).toBe(row['datetime']);
      expect(row['source_image']).toBe('tl.raw');
    }
    const typed = rows.map((x) => ({ ...x, pid: Number(x['pid']), ppid: Number(x['ppid']) }));
    expect(typed.map(eventKey).sort()).toEqual(truthEvents());
    // in time order
    const times = rows.map((x) => Date.parse(x['datetime']!));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    // the planted cases carry their status in words
    const hidden = truth.processes.find((p) => p.planted.includes('dkom-unlinked'))!;
    expect(rows.find((x) => Number(x['pid']) === hidden.pid)?.['status']).toBe('hidden');
    const exited = truth.processes.find((p) => p.planted.includes('exited') && !p.planted.includes('freed-pool-block'))!;
    const exitRow = rows.find((x) => Number(x['pid']) === exited.pid && x['timestamp_desc'] === 'Process Exited')!;
    expect(exitRow['status']).toBe('exited');
    expect(exitRow['message']).toContain('Process exited: cmd.exe');
    expect(rows.every((x) => x['implausible'] === '')).toBe(true); // every sample time lies between boot and capture
  });

  it('Timesketch JSONL: one event object a line, the same events as the CSV', async () => {
    const r = await cli('timeline', image, '--format', 'timesketch-jsonl');
    expect(r.code).toBe(0);
    expect(r.out.endsWith('\n')).toBe(true);
    const events = r.out.trimEnd().split('\n').map((l) => JSON.parse(l) as Event);
    for (const e of events) for (const f of REQUIRED) expect(typeof e[f] === 'string' && e[f] !== '').toBe(true);
    expect(events.map(eventKey).sort()).toEqual(truthEvents());
  });

  it('the table names the events; a bad --format is a usage error', async () => {
    let r = await cli('timeline', image);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^DATETIME\s+EVENT\s+PID/);
    expect(r.out).toContain('Process Exited');
    r = await cli('timeline', image, '--format', 'csv');
    expect(r.code).toBe(2);
    expect(r.err).toBe('memscope: --format must be one of table, timesketch-csv, timesketch-jsonl (got "csv")\n');
  });

  it('--format jsonl for every table: each line is the JSON array element, in the same order', async () => {
    for (const argv of [['pslist'], ['psscan'], ['psxview'], ['dtb', '--processes']]) {
      const json = await cli(...argv, image, '--format', 'json');
      const jsonl = await cli(...argv, image, '--format', 'jsonl');
      expect(jsonl.code, argv.join(' ')).toBe(0);
      const arr = JSON.parse(json.out) as unknown;
      const expected = argv[0] === 'dtb' ? (arr as { processes: unknown[] }).processes : arr;
      const lines = jsonl.out.split('\n');
      expect(lines.pop()).toBe(''); // every line ends with \n, the last included
      expect(lines.map((l) => JSON.parse(l))).toEqual(expected);
      expect(lines.length).toBeGreaterThan(5);
    }
    const cand = await cli('dtb', image, '--format', 'jsonl');
    const lines = cand.out.trimEnd().split('\n').map((l) => JSON.parse(l) as { method: string });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((c) => typeof c.method === 'string')).toBe(true);
  });
});
