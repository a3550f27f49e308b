/**
 * Test helper: build a sample image (sample/ builder, independent of windows/), open it and discover
 * its kernel, profiles from the shared ISF reference set. Images go under os.tmpdir() and are
 * removed by `cleanup()`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSample, type DirBaseFaults, type GroundTruth, type SampleFormat } from '../../sample/index.js';
import { openSource } from '../../sources/detect.js';
import type { PhysicalSource } from '../../sources/physical-source.js';
import { discoverKernel } from '../../windows/discovery/discover.js';
import type { WindowsKernel } from '../../windows/kernel.js';
import { profileProviders } from '../../session/profile-providers.js';

export interface SampleKernel {
  readonly path: string;
  readonly truth: GroundTruth;
  readonly source: PhysicalSource;
  readonly kernel: WindowsKernel;
}

export class SampleSet {
  readonly dir = mkdtempSync(join(tmpdir(), 'memscope-proc-'));
  private readonly open: PhysicalSource[] = [];

  async build(build: string, format: SampleFormat, seed: number, sizeMiB = 64, dirBaseFaults?: DirBaseFaults): Promise<SampleKernel> {
    const path = join(this.dir, `s${build}-${seed}${dirBaseFaults ? '-faults' : ''}.${format}`);
    const truth = await buildSample({ build, format, out: path, sizeMiB, seed, processes: 6, ...(dirBaseFaults ? { dirBaseFaults } : {}) });
    return this.load(path, truth);
  }

  async load(path: string, truth: GroundTruth): Promise<SampleKernel> {
    const source = openSource(path);
    this.open.push(source);
    const { kernel } = await discoverKernel(source, { store: profileProviders() });
    return { path, truth, source, kernel };
  }

  cleanup(): void {
    for (const s of this.open) s.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The TruthProcess fields a process row must reproduce exactly. */
export const ROW_FIELDS = [
  'pid', 'ppid', 'name', 'imagePath', 'commandLine', 'offset', 'physicalOffset', 'dtb', 'userDtb',
  'createTime', 'exitTime', 'threads', 'sessionId', 'wow64',
] as const;

export function pick<T extends object>(o: T, keys: readonly string[]): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  for (const k of keys) r[k] = (o as Record<string, unknown>)[k];
  return r;
}
