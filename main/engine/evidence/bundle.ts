/**
 * `memscope evidence <image> --out DIR` (and the app's Export evidence…): one new folder holding what
 * a case needs to rely on the triage — the process tables (psxview, pslist, psscan; CSV and JSON, the
 * CLI's bytes), the DTB report (`dtb --processes`), the discovery report (every candidate with its
 * evidence), the session header, the timeline (Timesketch CSV + JSONL), `manifest.json` (every file
 * with size and SHA-256, and provenance) and `SHA256SUMS` (`sha256sum -c`).
 *
 * The image's SHA-256 is computed while the analysis runs (both read the file; the scan runs in its
 * workers), unless an acquisition sidecar vouches for it. The bundle never overwrites: the folder
 * must be new or empty, files are created exclusively, and it is not written inside the image's own
 * folder tree unless asked. manifest.json is written first saying "incomplete" and replaced (write
 * then rename) only once everything else is on disk, so a bundle cut short by an error, a full disk
 * or a cancel is never passed off as whole.
 */
import { mkdirSync, readdirSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { MemScopeError, ioError, usageError } from '../errors.js';
import { dtbTotals } from '../plugins/dtb-inspect/index.js';
import { readAcquisitionSidecar } from '../sources/acquisition-sidecar.js';
import { openSession, type AnalysisSession } from '../session/session.js';
import { dtbReportJson } from '../windows/discovery/report-json.js';
import { sha256File, sha256Hex } from './hash.js';
import { BUNDLE_FORMAT, MANIFEST, SUMS, renderManifest, renderSums, type Manifest, type ManifestFile } from './manifest.js';
import { provenance } from './provenance.js';
import { renderSessionTimeline } from './timeline.js';

/** How the bundle touches the disk (tests inject a full disk or a read-only folder here). */
export interface BundleFs {
  /** Create a new file (never over an existing one). */
  create(path: string, text: string): void;
  /** Replace `to` by `from` atomically. */
  rename(from: string, to: string): void;
}

export const nodeBundleFs: BundleFs = {
  create: (path, text) => writeFileSync(path, text, { encoding: 'utf8', flag: 'wx' }),
  rename: (from, to) => renameSync(from, to),
};

export interface EvidenceOptions {
  readonly image: string;
  readonly out: string;
  /** Write even when `out` lies inside the image's own folder tree (`--inside-image-folder`). */
  readonly allowInsideImageFolder?: boolean;
  /** An open session over `image` to reuse (the app); otherwise one is opened (exhaustive discovery) and closed. */
  readonly session?: AnalysisSession;
  readonly signal?: AbortSignal;
  readonly onStage?: (stage: string) => void;
  readonly fs?: BundleFs;
  readonly workers?: number;
}

export interface EvidenceResult {
  readonly dir: string;
  readonly manifest: Manifest;
}

/** The folder must be new or empty, and (unless allowed) outside the image's folder tree. */
export function checkOutDir(out: string, image: string, allowInside: boolean): string {
  const dir = resolve(out);
  if (!allowInside) {
    let imageDir = dirname(resolve(image));
    try { imageDir = dirname(realpathSync(image)); } catch { /* the session reports an unreadable image */ }
    let real = dir;
    try { real = realpathSync(dir); } catch { /* not there yet */ }
    for (const d of new Set([dir, real])) {
      const rel = relative(imageDir, d);
      if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) {
        throw usageError(`--out ${out} is inside the image's folder ${imageDir}; evidence is not written beside the image unless asked (--inside-image-folder)`);
      }
    }
  }
  let entries: string[] | null = null;
  try {
    if (!statSync(dir).isDirectory()) throw usageError(`--out ${out} exists and is not a folder`);
    entries = readdirSync(dir);
  } catch (e) {
    if (e instanceof MemScopeError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(out, e);
  }
  if (entries !== null && entries.length > 0) throw usageError(`--out ${out} is not empty (${entries.length} entries); a bundle goes into a new folder`);
  try { mkdirSync(dir, { recursive: true }); } catch (e) { throw ioError(out, e); }
  return dir;
}

export async function writeEvidenceBundle(opts: EvidenceOptions): Promise<EvidenceResult> {
  const fs = opts.fs ?? nodeBundleFs;
  const dir = checkOutDir(opts.out, opts.image, opts.allowInsideImageFolder === true);
  const stage = (s: string) => opts.onStage?.(s);
  const prov = provenance();
  const startTime = new Date().toISOString();
  const files: ManifestFile[] = [];
  const warnings: string[] = [];
  let manifest: Manifest = {
    format: BUNDLE_FORMAT, complete: false, incompleteReason: 'being written',
    tool: { name: 'memscope', version: prov.version, commit: prov.commit }, host: prov.host, user: prov.user,
    startTime, endTime: null,
    source: { kind: 'image', path: resolve(opts.image), size: null, sha256: null, sha256From: 'not yet computed', format: null },
    kernel: null, time: null, warnings, files,
  };
  const put = (name: string, text: string, what: string): void => {
    try { fs.create(join(dir, name), text); } catch (e) { throw ioError(join(dir, name), e); }
    files.push({ path: name, size: Buffer.byteLength(text, 'utf8'), sha256: sha256Hex(text), what });
  };
  /** manifest.json by write-then-rename: a failed write leaves the last one (saying incomplete) in place. */
  const writeManifest = (m: Manifest): void => {
    const tmp = join(dir, `.${MANIFEST}.tmp`);
    try {
      fs.create(tmp, renderManifest(m));
      fs.rename(tmp, join(dir, MANIFEST));
    } catch (e) {
      throw ioError(join(dir, MANIFEST), e);
    }
  };
  writeManifest(manifest);

  let session: AnalysisSession | null = opts.session ?? null;
  const own = !opts.session;
  const hashing = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, hashing.signal]) : hashing.signal;
  try {
    const { sidecar, problem } = readAcquisitionSidecar(opts.image);
    if (problem) warnings.push(problem);
    let size: number;
    try { size = statSync(opts.image).size; } catch (e) { throw ioError(opts.image, e); }
    const hash: Promise<{ sha256: string; from: string }> = sidecar?.vouches && sidecar.sha256
      ? Promise.resolve({ sha256: sidecar.sha256, from: `acquisition sidecar ${sidecar.path}` })
      : sha256File(opts.image, signal).then((h) => ({ sha256: h.sha256, from: 'computed while the analysis ran' }));
    hash.catch(() => undefined); // awaited below; an early analysis failure must not leave it unhandled
    if (sidecar && !sidecar.vouches) warnings.push(`${sidecar.path} does not vouch for the image (${sidecar.reason}); its SHA-256 was computed`);

    stage('opening');
    session ??= await openSession(opts.image, { warmScan: true, exhaustive: true, signal, ...(opts.workers !== undefined ? { workers: opts.workers } : {}) });
    const s = session;
    const info = s.info;
    manifest = {
      ...manifest,
      source: { ...manifest.source, size, format: info.source.format },
      kernel: {
        build: info.kernel.build, kernelBase: info.kernel.kernelBase, dtb: info.kernel.dtb, dtbRaw: info.kernel.dtbRaw,
        dtbMethod: info.kernel.dtbMethod, profile: info.kernel.profileLabel, profileSource: info.kernel.profileSource,
      },
      time: info.time ?? null,
    };
    warnings.push(...info.warnings);

    for (const table of ['psxview', 'pslist', 'psscan'] as const) {
      stage(table);
      const r = await s.runToEnd(table, undefined, signal);
      warnings.push(...r.warnings.map((w) => `${table}: ${w}`));
      for (const format of ['csv', 'json'] as const) put(`${table}.${format}`, s.exportTable(table, format, null).text, `memscope ${table} --format ${format}`);
    }
    stage('dtb');
    const dtb = await s.runToEnd('dtb', undefined, signal);
    const report = dtbReportJson(s.report);
    const rows = [...dtb.rows.values()];
    put('dtb-processes.csv', s.exportTable('dtb', 'csv', null).text, 'memscope dtb --processes --format csv: every process DirBase explained');
    put('dtb-processes.json', JSON.stringify({ ...report, processes: rows, processTotals: dtbTotals(rows) }, null, 2) + '\n', 'memscope dtb --processes --format json');
    put('discovery.json', JSON.stringify(report, null, 2) + '\n', 'memscope dtb --format json: every DTB candidate of every method with its evidence and validation');
    put('session.json', JSON.stringify(info, null, 2) + '\n', 'the session header: source, kernel, profile, capture and boot time');
    stage('timeline');
    put('timeline.csv', renderSessionTimeline(s, 'timesketch-csv'), 'process create / exit events, Timesketch CSV');
    put('timeline.jsonl', renderSessionTimeline(s, 'timesketch-jsonl'), 'process create / exit events, Timesketch JSONL');

    stage('hashing the image');
    const h = await hash;
    manifest = {
      ...manifest, complete: true, incompleteReason: null, endTime: new Date().toISOString(),
      source: { ...manifest.source, sha256: h.sha256, sha256From: h.from },
    };
    const manifestText = renderManifest(manifest);
    put(SUMS, renderSums([...files, { path: MANIFEST, sha256: sha256Hex(manifestText) }]), 'SHA-256 of every file, manifest.json included (sha256sum -c)');
    files.pop(); // SHA256SUMS is not listed in the manifest it hashes
    writeManifest(manifest);
    stage('done');
    return { dir, manifest };
  } catch (e) {
    hashing.abort();
    const reason = e instanceof Error ? e.message : String(e);
    const cut: Manifest = { ...manifest, complete: false, incompleteReason: reason, endTime: new Date().toISOString(), files: [...files] };
    try { writeManifest(cut); } catch { /* the first manifest (incomplete) stays */ }
    throw e;
  } finally {
    hashing.abort();
    if (own) await session?.close();
  }
}
