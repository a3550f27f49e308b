/**
 * `memscope evidence <image> --out DIR` (and the app's Export evidence…): one new folder holding what
 * a case needs to rely on the triage — the process tables (psxview, pslist, psscan; CSV and JSON, the
 * CLI's bytes), the DTB report (`dtb --processes`), the discovery report (every candidate with its
 * evidence), the session header, the timeline (Timesketch CSV + JSONL), `manifest.json` (every file
 * with size and SHA-256, and provenance) and `SHA256SUMS` (`sha256sum -c`).
 *
 * The image's SHA-256 is computed while the analysis runs (both read the file; the scan runs in its
 * workers), unless an acquisition sidecar vouches for it. Live memory (a live SourceRef) has no image
 * to hash — it changes while it is read — so the manifest says so and records the live host, device,
 * driver and GET_INFO facts instead (live-provenance.ts); every file the bundle writes is hashed alike. The bundle never overwrites: the folder
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
import { describeRef, fileRef, isLiveRef, type SourceRef } from '../sources/source-ref.js';
import { openSession, type AnalysisSession } from '../session/session.js';
import { dtbReportJson } from '../windows/discovery/report-json.js';
import { sha256File, sha256Hex } from './hash.js';
import { BUNDLE_FORMAT, MANIFEST, SUMS, renderManifest, renderSums, type Manifest, type ManifestFile } from './manifest.js';
import { LIVE_SHA256_FROM, liveProvenance, type DriverFile } from './live-provenance.js';
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
  /** What the bundle is of: an image path (or file reference), or live memory (a live SourceRef). */
  readonly source: string | SourceRef;
  readonly out: string;
  /** Write even when `out` lies inside the image's own folder tree (`--inside-image-folder`). */
  readonly allowInsideImageFolder?: boolean;
  /**
   * An open session over `source` to reuse (the app: for live memory it must be reused, the driver
   * serves one open); otherwise one is opened (exhaustive discovery) and closed.
   */
  readonly session?: AnalysisSession;
  /** Live: the driver file this run loaded (path, SHA-256), recorded in the provenance. */
  readonly driver?: DriverFile | null;
  readonly signal?: AbortSignal;
  readonly onStage?: (stage: string) => void;
  readonly fs?: BundleFs;
  readonly workers?: number;
}

export interface EvidenceResult {
  readonly dir: string;
  readonly manifest: Manifest;
}

/** The folder must be new or empty, and (unless allowed) outside the image's folder tree (live: there is no image). */
export function checkOutDir(out: string, image: string | null, allowInside: boolean): string {
  const dir = resolve(out);
  if (!allowInside && image !== null) {
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
  const ref = typeof opts.source === 'string' ? fileRef(opts.source) : opts.source;
  const image = ref.kind === 'file' ? ref.path : null;
  const dir = checkOutDir(opts.out, image, opts.allowInsideImageFolder === true);
  const stage = (s: string) => opts.onStage?.(s);
  const prov = provenance();
  const startTime = new Date().toISOString();
  const files: ManifestFile[] = [];
  const warnings: string[] = [];
  let manifest: Manifest = {
    format: BUNDLE_FORMAT, complete: false, incompleteReason: 'being written',
    tool: { name: 'memscope', version: prov.version, commit: prov.commit }, host: prov.host, user: prov.user,
    startTime, endTime: null,
    source: image !== null
      ? { kind: 'image', path: resolve(image), size: null, sha256: null, sha256From: 'not yet computed', format: null }
      : { kind: 'live', path: describeRef(ref), size: null, sha256: null, sha256From: LIVE_SHA256_FROM, format: null },
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
    const hash = image !== null ? imageHash(image, signal, warnings) : null;

    stage('opening');
    session ??= await openSession(image ?? ref, { warmScan: true, exhaustive: true, signal, ...(opts.workers !== undefined ? { workers: opts.workers } : {}) });
    const s = session;
    const info = s.info;
    const liveFacts = () => (isLiveRef(ref) ? { live: liveProvenance(ref, s.source, opts.driver ?? null) } : {});
    manifest = {
      ...manifest,
      source: { ...manifest.source, size: hash?.size ?? info.source.size, format: info.source.format, ...liveFacts() },
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

    // live: the unreadable-page count as it stands now the bundle is written
    let source: Manifest['source'] = { ...manifest.source, ...liveFacts() };
    if (hash) {
      stage('hashing the image');
      const h = await hash.sha256;
      source = { ...source, sha256: h.sha256, sha256From: h.from };
    }
    manifest = { ...manifest, complete: true, incompleteReason: null, endTime: new Date().toISOString(), source };
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

/**
 * The image's size and SHA-256: from an acquisition sidecar that vouches for it, otherwise streamed
 * from the file while the analysis runs (awaited once the bundle's files are written).
 */
function imageHash(image: string, signal: AbortSignal, warnings: string[]): { size: number; sha256: Promise<{ sha256: string; from: string }> } {
  const { sidecar, problem } = readAcquisitionSidecar(image);
  if (problem) warnings.push(problem);
  let size: number;
  try { size = statSync(image).size; } catch (e) { throw ioError(image, e); }
  const sha256: Promise<{ sha256: string; from: string }> = sidecar?.vouches && sidecar.sha256
    ? Promise.resolve({ sha256: sidecar.sha256, from: `acquisition sidecar ${sidecar.path}` })
    : sha256File(image, signal).then((h) => ({ sha256: h.sha256, from: 'computed while the analysis ran' }));
  sha256.catch(() => undefined); // awaited later; an early analysis failure must not leave it unhandled
  if (sidecar && !sidecar.vouches) warnings.push(`${sidecar.path} does not vouch for the image (${sidecar.reason}); its SHA-256 was computed`);
  return { size, sha256 };
}
