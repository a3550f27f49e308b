/**
 * Benchmark images: sample images from the sample builder (main/engine/sample/), written raw, with
 * the pages the builder left empty FILLED with pseudo-random content. The builder leaves free RAM as
 * zeros, which makes a scan unrealistically cheap (memchr over zeros never stops) and a sparse file
 * reads at memory-copy speed without touching the disk; real RAM is mostly stale, non-zero data.
 * About 1 free page in 8 stays zero, as on a machine with a zero-page list.
 *
 * Images are cached under <repo>/.cache/bench/, keyed by build + size + seed + builder version (a
 * hash of the builder's sources and of this file's FILL_VERSION), so a second `npm run bench`
 * reuses them. The truth JSON is written beside each image, as buildSample does.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage } from '../main/engine/sample/image.js';
import { PAGE_SIZE } from '../main/engine/sample/physmem.js';
import { resolveSampleProfile } from '../main/engine/sample/profile-source.js';
import type { GroundTruth } from '../main/engine/sample/truth.js';
import { memoryFromPages, writeImage } from '../main/engine/acquire/writers/index.js';
import { repoRoot } from './paths.js';

/** Bump when the fill changes: cached images then rebuild. */
const FILL_VERSION = 1;
/** Distinct filler pages; each copy is also stamped with its PFN, so no two pages are equal. */
const POOL_PAGES = 256;

export interface BenchImageSpec {
  readonly build: string;
  readonly sizeMiB: number;
  readonly seed: number;
  readonly processes: number;
  /** Write the real-mode low stub (Windows' PROCESSOR_START_BLOCK); false: discovery must scan. Default true. */
  readonly lowStub?: boolean;
}

export interface BenchImage {
  readonly path: string;
  readonly truth: GroundTruth;
  readonly fileBytes: number;
  /** True when the image came from the cache. */
  readonly cached: boolean;
  readonly buildMs: number;
}

/** Hash of every builder source file (sorted), so a builder change invalidates cached images. */
export function builderVersion(): string {
  const h = createHash('sha256');
  h.update(`fill:${FILL_VERSION}\n`);
  const dir = join(repoRoot(), 'main', 'engine', 'sample');
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(d, e.name)) : /\.ts$/.test(e.name) && !/\.test\.ts$/.test(e.name) ? [join(d, e.name)] : [],
    );
  for (const f of walk(dir).sort()) {
    h.update(f.slice(dir.length));
    h.update(readFileSync(f));
  }
  return h.digest('hex').slice(0, 12);
}

/** <repo>/.cache/bench, or $MEMSCOPE_BENCH_CACHE (the smoke test uses a temp dir). */
export function benchCacheDir(): string {
  return process.env['MEMSCOPE_BENCH_CACHE'] || join(repoRoot(), '.cache', 'bench');
}

/** mulberry32-filled pool of POOL_PAGES pages (deterministic per seed). */
function fillerPool(seed: number): Uint8Array {
  const pool = new Uint8Array(POOL_PAGES * PAGE_SIZE);
  const words = new Uint32Array(pool.buffer);
  let s = (seed ^ 0x5eed_f111) >>> 0;
  for (let i = 0; i < words.length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    words[i] = (t ^ (t >>> 14)) >>> 0;
  }
  return pool;
}

/**
 * Page callback for the writers: the builder's page where it wrote one; otherwise filler (or zero
 * for ~1/8 of pages). The filler page is one reused buffer: the writer copies it out at once.
 */
export function filledPageSource(stored: (pfn: number) => Uint8Array | null, seed: number): (pa: number) => Uint8Array | null {
  const pool = fillerPool(seed);
  const page = new Uint8Array(PAGE_SIZE);
  const view = new DataView(page.buffer);
  return (pa) => {
    const pfn = pa / PAGE_SIZE;
    const own = stored(pfn);
    if (own) return own;
    const h = Math.imul(pfn ^ (pfn >>> 16), 0x45d9f3b) >>> 0;
    if ((h & 7) === 0) return null;
    const slot = (h >>> 3) % POOL_PAGES;
    page.set(pool.subarray(slot * PAGE_SIZE, (slot + 1) * PAGE_SIZE));
    view.setUint32(0, pfn >>> 0, true);
    return page;
  };
}

/** Build (or reuse from the cache) the raw bench image for `spec`. */
export async function benchImage(spec: BenchImageSpec, log: (line: string) => void = () => {}): Promise<BenchImage> {
  const dir = benchCacheDir();
  mkdirSync(dir, { recursive: true });
  const lowStub = spec.lowStub ?? true;
  const stem = `b${spec.build}-${spec.sizeMiB}m-s${spec.seed}-p${spec.processes}-${lowStub ? '' : 'nostub-'}`;
  const name = `${stem}${builderVersion()}.raw`;
  const path = join(dir, name);
  const truthPath = `${path}.truth.json`;
  // Images of an older builder version are stale: drop them rather than fill the disk. Only this
  // stem's own files: `…-p60-` is also the start of `…-p60-nostub-…`, which a prefix test deleted.
  const ours = new RegExp(`^${stem}[0-9a-f]{12}\\.raw(\\.truth\\.json|\\.partial)?$`);
  for (const old of readdirSync(dir)) if (ours.test(old) && !old.startsWith(name)) rmSync(join(dir, old), { force: true });
  if (existsSync(path) && existsSync(truthPath)) {
    const truth = JSON.parse(readFileSync(truthPath, 'utf8')) as GroundTruth;
    return { path, truth, fileBytes: statSync(path).size, cached: true, buildMs: 0 };
  }
  log(`building ${spec.sizeMiB} MiB bench image (build ${spec.build}, seed ${spec.seed}${lowStub ? '' : ', no low stub'}) → ${path}`);
  const t0 = performance.now();
  const { profile, version, buildNumber } = await resolveSampleProfile(spec.build);
  const { mem, truth: t } = buildImage(profile, buildNumber, version, {
    sizeMiB: spec.sizeMiB,
    processes: spec.processes,
    seed: spec.seed,
    lowStub,
  });
  const content = memoryFromPages(mem.runs, filledPageSource((pfn) => mem.storedPage(pfn), spec.seed));
  // Write under a temporary name: an interrupted build never leaves a truncated image in the cache.
  const tmp = `${path}.partial`;
  try {
    writeImage(tmp, 'raw', content);
    const truth: GroundTruth = { format: 'raw', ...t };
    writeFileSync(truthPath, JSON.stringify(truth, null, 2) + '\n');
    renameSync(tmp, path);
    return { path, truth, fileBytes: statSync(path).size, cached: false, buildMs: performance.now() - t0 };
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
