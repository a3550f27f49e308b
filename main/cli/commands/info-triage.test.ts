/**
 * `memscope` on the two real triage dumps Windows wrote: info shows what they hold; every command
 * that needs physical memory refuses in one line. Values checked are visible in the bytes (see
 * engine/sources/triage/triage-dump.test.ts for the offsets).
 */
import { describe, expect, it } from 'vitest';
import { sharedDataPath } from '../../engine/util/shared-data.js';
import { runCli } from '../main.js';

const X64 = sharedDataPath('crash-dumps', 'triage_x64.dmp');
const ARM64 = sharedDataPath('crash-dumps', 'triage_arm64.dmp');

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => { out += t; }, err: (t) => { err += t; } });
  return { code, out, err };
}

describe('memscope info on a kernel triage dump', () => {
  it('prints its facts and the loaded drivers as a table', async () => {
    const r = await cli('info', X64);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^format\s+crashdump-triage$/m);
    expect(r.out).toMatch(/^build\s+19041$/m);
    expect(r.out).toMatch(/^bugcheck\s+0x1000007e \(0xffffffffc0000005, 0xfffff8048b58334c amdppm\.sys\+0x334c, 0xffff850429891ee8, 0xffff850429891720\)$/m);
    expect(r.out).toMatch(/^crash time\s+2021-02-21T01:38:22\.987Z$/m);
    expect(r.out).toMatch(/^processors\s+16$/m);
    expect(r.out).toMatch(/^dtb\s+0x1ad000$/m);
    expect(r.out).toMatch(/^kernel base\s+0xfffff8047ba00000 \(KDBG KernBase; /m);
    expect(r.out).toMatch(/^crashing process\s+System \(PID 4, EPROCESS 0xffffc08bdce94180, DTB 0x1ad000; /m);
    expect(r.out).toMatch(/^memory held\s+1043 pages in 1831 blocks/m);
    expect(r.out).toMatch(/^ntoskrnl\.exe\s+0xfffff8047ba00000\s+0x1046000\s+0xd8333e6$/m);
    expect(r.out).toMatch(/^amdppm\.sys\s+0xfffff8048b580000\s+0x3b000\s/m);
  });

  it('prints JSON with the same keys as any image', async () => {
    const r = await cli('info', X64, '--format', 'json');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.out);
    expect(info).toMatchObject({
      path: X64, format: 'crashdump-triage', runs: [], build: 19041, kernelBase: '0xfffff8047ba00000',
      hints: { psLoadedModuleList: '0xfffff8047c62a390', kdDebuggerDataBlock: '0xfffff8047c600b20', numberOfProcessors: 16 },
      crashDump: { dumpType: 4, bugCheckCode: '0x1000007e', crashTime: '2021-02-21T01:38:22.987Z' },
      triage: { memoryPages: 1043, crashingThread: { threadId: 264, process: { pid: 4, imageFileName: 'System' } } },
    });
    expect(info.triage.drivers.map((d: { name: string }) => d.name).slice(0, 3)).toEqual(['ntoskrnl.exe', 'hal.dll', 'kd.dll']);
  });

  it('shows the ARM64 dump\'s header and says ARM64 analysis is not supported', async () => {
    const r = await cli('info', ARM64);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^machine\s+0xAA64 \(ARM64\)$/m);
    expect(r.out).toMatch(/^build\s+22000$/m);
    expect(r.out).toMatch(/^bugcheck\s+0x1c8 \(0x1b58, 0xfffff803f3a20860, 0x0, 0x0\)$/m);
    expect(r.out).toMatch(/^analysis\s+analysis of 0xAA64 \(ARM64\) dumps is not supported/m);
    expect(r.out).not.toMatch(/^drivers/m);
    const j = JSON.parse((await cli('info', ARM64, '--format', 'json')).out);
    expect(j).toMatchObject({ machine: '0xAA64 (ARM64)', hints: { machineImageType: '0xaa64' }, unsupported: expect.stringContaining('not supported') });
  });
});

describe('commands that need physical memory on a triage dump', () => {
  const commands: string[][] = [
    ['pslist', X64], ['psscan', X64], ['psxview', X64], ['dtb', X64],
    ['translate', X64, '--dtb', '0x1ad000', '0xfffff8047ba00000'], ['hexdump', X64, '--pa', '0x1000'],
    ['struct', X64, '--type', '_EPROCESS', '--va', '0xffffc08bdce94180'],
  ];
  for (const argv of commands) {
    it(`${argv[0]} exits 1 with one line: a triage dump holds only 1043 pages`, async () => {
      const r = await cli(...argv);
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(r.err).toBe(`memscope: ${X64}: a kernel triage dump (DumpType 4) holds only 1043 pages of memory (1831 blocks of kernel virtual memory, no physical memory or page tables), not the physical memory this command reads; \`memscope info\` still shows its bugcheck, crash time, build, kernel base, crashing thread's process and loaded drivers\n`);
    });
  }

  it('pslist refuses the ARM64 dump naming its machine type', async () => {
    const r = await cli('pslist', ARM64);
    expect(r.code).toBe(1);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    expect(r.err).toContain(`${ARM64}: crash dump for machine type 0xAA64 (ARM64)`);
  });
});
