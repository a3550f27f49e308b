/**
 * The benchmark's result model (rows with median, min–max, target, verdict) and its two renderings:
 * the table people read and the JSON (`--json`) machines read. Both carry the same rows.
 */

export type Verdict = 'PASS' | 'MISS' | 'INFO' | 'N/A';

export interface Target {
  readonly op: '<=' | '>=';
  readonly value: number;
}

export interface BenchRow {
  /** Stable machine key, e.g. "psscan-vs-read". */
  readonly id: string;
  /** Which image (e.g. "4 GiB") or "-" for rows not tied to one. */
  readonly image: string;
  readonly label: string;
  readonly unit: string;
  readonly median: number | null;
  readonly min: number | null;
  readonly max: number | null;
  /** Samples behind median/min/max. */
  readonly samples: number;
  readonly target: Target | null;
  /** Which statistic the target is judged on. */
  readonly judgedOn: 'median' | 'max';
  readonly verdict: Verdict;
  readonly note: string;
}

export interface BenchReport {
  readonly tool: 'memscope-bench';
  readonly version: 1;
  readonly startedAt: string;
  readonly smoke: boolean;
  readonly runs: number;
  readonly machine: { readonly cpus: number; readonly node: string; readonly totalMemMiB: number; readonly platform: string };
  readonly images: readonly { readonly label: string; readonly path: string; readonly fileBytes: number; readonly sizeMiB: number; readonly build: string; readonly cached: boolean; readonly buildMs: number }[];
  readonly rows: readonly BenchRow[];
  readonly warnings: readonly string[];
}

export interface Stats {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly samples: number;
}

export function stats(values: readonly number[]): Stats | null {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { median, min: v[0]!, max: v[v.length - 1]!, samples: v.length };
}

export interface RowSpec {
  readonly id: string;
  readonly image: string;
  readonly label: string;
  readonly unit: string;
  readonly values: readonly number[];
  readonly target?: Target;
  readonly judgedOn?: 'median' | 'max';
  readonly note?: string;
}

export function makeRow(spec: RowSpec): BenchRow {
  const s = stats(spec.values);
  const judgedOn = spec.judgedOn ?? 'median';
  let verdict: Verdict = 'INFO';
  if (spec.target) {
    if (!s) verdict = 'MISS';
    else {
      const v = judgedOn === 'max' ? s.max : s.median;
      verdict = (spec.target.op === '<=' ? v <= spec.target.value : v >= spec.target.value) ? 'PASS' : 'MISS';
    }
  }
  return {
    id: spec.id,
    image: spec.image,
    label: spec.label,
    unit: spec.unit,
    median: s?.median ?? null,
    min: s?.min ?? null,
    max: s?.max ?? null,
    samples: s?.samples ?? 0,
    target: spec.target ?? null,
    judgedOn,
    verdict,
    note: spec.note ?? '',
  };
}

/** A row for something not measurable yet (e.g. the renderer): never PASS. */
export function notApplicable(id: string, label: string, target: Target | null, unit: string, note: string): BenchRow {
  return { id, image: '-', label, unit, median: null, min: null, max: null, samples: 0, target, judgedOn: 'median', verdict: 'N/A', note };
}

export function formatNumber(v: number | null, unit: string): string {
  if (v === null) return 'n/a';
  if (unit === 'addr/s') {
    if (v >= 1e6) return `${(v / 1e6).toFixed(2)} M/s`;
    if (v >= 1e3) return `${(v / 1e3).toFixed(1)} k/s`;
    return `${v.toFixed(0)} /s`;
  }
  if (unit === '×') return `${v.toFixed(2)}×`;
  const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${unit}`;
}

const targetText = (r: BenchRow): string =>
  r.target ? `${r.target.op === '<=' ? '≤' : '≥'} ${formatNumber(r.target.value, r.unit)}${r.judgedOn === 'max' ? ' (max)' : ''}` : '—';

export function renderTable(report: BenchReport): string {
  const head = ['image', 'measurement', 'median', 'min–max', 'n', 'target', 'result', 'notes'];
  const body = report.rows.map((r) => [
    r.image,
    r.label,
    r.verdict === 'N/A' && r.median === null ? 'n/a' : formatNumber(r.median, r.unit),
    r.min === null || r.max === null ? '' : `${formatNumber(r.min, r.unit)} – ${formatNumber(r.max, r.unit)}`,
    r.samples ? String(r.samples) : '',
    targetText(r),
    r.verdict,
    r.note,
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...body.map((row) => [...row[i]!].length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(width[i]! - [...c].length))).join('  ').trimEnd();
  const out = [line(head), line(width.map((w) => '-'.repeat(w)))];
  let last = '';
  for (const [i, row] of body.entries()) {
    if (i > 0 && report.rows[i]!.image !== last) out.push('');
    last = report.rows[i]!.image;
    out.push(line(row));
  }
  return out.join('\n');
}
