/**
 * `--live` on every analysis command. Off Windows with no simulation: exit 1 and one line naming
 * what is missing. With MEMSCOPE_SIMULATED_PMEM: the simulated WinPmem device serving a sample
 * image, through the same session as the image itself — `info --live` says it is simulated and
 * that the DTB came from GET_INFO's CR3, and pslist/psscan give the image's rows byte for byte.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './main.js';
import { LIVE_NEEDS, SIMULATED_ENV } from './live.js';
import { SampleSet, type SampleKernel } from '../engine/plugins/testing/sample-kernel.js';

const set = new SampleSet();
let img: SampleKernel;
beforeAll(async () => { img = await set.build('19041', 'raw', 7); }, 120_000);
afterAll(() => set.cleanup());
afterEach(() => { delete process.env[SIMULATED_ENV]; });

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (s) => { out += s; }, err: (s) => { err += s; } });
  return { code, out, err };
}

const COMMANDS: string[][] = [
  ['info', '--live'], ['dtb', '--live'], ['pslist', '--live'], ['psscan', '--live'], ['psxview', '--live'],
  ['struct', '--live', '--type', '_EPROCESS', '--va', '0xfffff80000000000'], ['hexdump', '--live', '--pa', '0x1000'],
  ['translate', '--live', '--dtb', '0x1aa000', '0xfffff80000000000'],
];

describe('memscope <command> --live', () => {
  it.skipIf(process.platform === 'win32')('off Windows: exit 1, one line naming what is missing, for every command', async () => {
    delete process.env[SIMULATED_ENV];
    for (const argv of COMMANDS) {
      const r = await cli(...argv);
      expect({ argv, code: r.code, err: r.err, out: r.out }).toEqual({ argv, code: 1, err: `memscope: ${LIVE_NEEDS}\n`, out: '' });
    }
  });

  it('usage: an image and --live, neither, or --driver without --live exit 2', async () => {
    expect((await cli('pslist', img.path, '--live')).err).toMatch(/give an image or --live, not both/);
    expect((await cli('pslist')).code).toBe(2);
    expect((await cli('pslist', img.path, '--driver', 'x.sys')).err).toBe('memscope: --driver applies only with --live\n');
    process.env[SIMULATED_ENV] = img.path;
    expect((await cli('pslist', '--live', '--driver', 'x.sys')).code).toBe(2);
  });

  it('simulated: info says so and that the DTB and kernel base came from GET_INFO, verified', async () => {
    process.env[SIMULATED_ENV] = img.path;
    const r = await cli('info', '--live', '--format', 'json');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.out) as Record<string, unknown>;
    expect(info).toMatchObject({ format: 'winpmem', live: { simulated: true, mode: 'pte' }, dtbMethod: 'source-cr3' });
    expect(info['kernelBase']).toBe(img.truth.kernelBase);
    const t = await cli('info', '--live');
    expect(t.out).toMatch(/^live {2,}SIMULATED WinPmem device \(MEMSCOPE_SIMULATED_PMEM\), not this machine$/m);
  });

  it('simulated: pslist and psscan --live equal the image\'s output byte for byte', async () => {
    for (const cmd of ['pslist', 'psscan']) {
      process.env[SIMULATED_ENV] = img.path;
      const live = await cli(cmd, '--live', '--format', 'csv');
      delete process.env[SIMULATED_ENV];
      const image = await cli(cmd, img.path, '--format', 'csv');
      expect(live.code).toBe(0);
      expect(live.out).toBe(image.out);
      expect(live.out.split('\n').length).toBeGreaterThan(10);
    }
  }, 120_000);
});
