/**
 * The crash-dump summary `memscope info` shows, on the two real triage dumps. Expected values were
 * read off the bytes (xxd) and decoded by hand with the 19041 _EPROCESS/_ETHREAD/_KPRCB offsets.
 */
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProfileStore } from '../../profile/store.js';
import { Profile } from '../../profile/profile.js';
import type { ProfileData } from '../../profile/model.js';
import { writeImage } from '../../acquire/writers/index.js';
import { makeTempDir, patternContent, removeTempDir } from '../../acquire/writers/testing.js';
import { sharedDataPath } from '../../util/shared-data.js';
import { profileForBuild, type BuildProfileStore } from './build-profile.js';
import { summarizeCrashDump } from './summary.js';
import { crashSummaryJson } from './summary-json.js';

const X64 = sharedDataPath('crash-dumps', 'triage_x64.dmp');
const ARM64 = sharedDataPath('crash-dumps', 'triage_arm64.dmp');

let dir: string;
let store: ProfileStore;
beforeAll(() => {
  dir = makeTempDir('memscope-triage-summary-');
  store = new ProfileStore({ home: path.join(dir, 'home') }); // bundled profiles only, no user cache
});
afterAll(() => removeTempDir(dir));

describe('crash dump summary: the real x64 triage dump', () => {
  it('names the crashing thread and its process from the PRCB, ETHREAD and EPROCESS copies', async () => {
    const s = (await summarizeCrashDump(X64, { store }))!;
    const t = s.triage!;
    expect(t.notes).toEqual([]);
    expect(t.crashingThread).toEqual({
      ethread: 0xffffc08bde9e1640n, // KPRCB copy at 0x21b8, CurrentThread at +8
      threadId: 0x108, // ETHREAD copy at 0xdaf8, Cid.UniqueThread at +0x480
      process: {
        eprocess: 0xffffc08bdce94180n, // Tcb.Process at +0x220
        pid: 4, // EPROCESS copy at 0xd0b8, UniqueProcessId at +0x440
        imageFileName: 'System', // +0x5a8
        directoryTableBase: 0x1ad000n, // Pcb.DirectoryTableBase +0x28, the header's DTB too
      },
      profile: 'build 19041: the 39 known revisions agree on these offsets',
    });
  });

  it('takes the kernel base from the KDBG copy and says what in the dump confirms it', async () => {
    const t = (await summarizeCrashDump(X64, { store }))!.triage!;
    expect(t.kernelBase).toBe(0xfffff8047ba00000n);
    expect(t.kernelBaseEvidence).toEqual(['the dump holds an MZ header at that address', 'driver list entry 0 (ntoskrnl.exe) has the same base']);
  });

  it('points the faulting-address parameter into the driver that crashed, and dates the crash', async () => {
    const s = (await summarizeCrashDump(X64, { store }))!;
    // 0xfffff8048b58334c - amdppm.sys's DllBase 0xfffff8048b580000
    expect(s.bugCheckParameterDrivers).toEqual([null, 'amdppm.sys+0x334c', null, null]);
    expect(s.crashTime).toBe('2021-02-21T01:38:22.987Z'); // FILETIME 0x01d707f23dbb3399 at 0xfa8
    expect(s.upTimeSeconds).toBe(3.747); // 0x023bc1e9 x 100 ns at 0x1030
    expect(s.unsupported).toBeUndefined();
  });

  it('renders JSON with info\'s keys: no physical runs, hints with the KDBG kernel base, the driver list', async () => {
    const j = crashSummaryJson((await summarizeCrashDump(X64, { store }))!);
    expect(j).toMatchObject({
      format: 'crashdump-triage', size: '0x0', runs: [], build: 19041, machine: '0x8664 (x64)', kernelBase: '0xfffff8047ba00000',
      hints: { dtb: '0x1ad000', psActiveProcessHead: '0xfffff8047c61e200', psLoadedModuleList: '0xfffff8047c62a390', kdDebuggerDataBlock: '0xfffff8047c600b20', numberOfProcessors: 16, buildNumber: 19041, machineImageType: '0x8664', kernelBase: '0xfffff8047ba00000' },
      crashDump: { dumpType: 4, bugCheckCode: '0x1000007e', bugCheckParameters: ['0xffffffffc0000005', '0xfffff8048b58334c', '0xffff850429891ee8', '0xffff850429891720'] },
      triage: { memoryPages: 1043, dataBlocks: 1831, kdbg: { offset: '0x104a8', size: '0x380', kernBase: '0xfffff8047ba00000' } },
    });
    expect(j.triage!.drivers).toHaveLength(151);
    expect(j.triage!.drivers[143]).toEqual({ name: 'amdppm.sys', path: '\\SystemRoot\\System32\\drivers\\amdppm.sys', base: '0xfffff8048b580000', size: '0x3b000', timeDateStamp: expect.stringMatching(/^0x[0-9a-f]+$/) });
  });

  it('without a profile for the build, still summarises and says why the process is not decoded', async () => {
    const none = new ProfileStore({ bundledDir: null, home: path.join(dir, 'empty-home') });
    const t = (await summarizeCrashDump(X64, { store: none }))!.triage!;
    expect(t.crashingThread).toBeNull();
    expect(t.notes).toEqual(['crashing thread and process not decoded: no known profile for build 19041']);
    expect(t.drivers).toHaveLength(151);
  });
});

describe('crash dump summary: other images', () => {
  it('shows the ARM64 dump\'s header and says its analysis is not supported', async () => {
    const s = (await summarizeCrashDump(ARM64, { store }))!;
    expect(s.machine).toBe('0xAA64 (ARM64)');
    expect(s.buildNumber).toBe(22000);
    expect(s.header.bugCheckCode).toBe(0x1c8); // 0x038: c8010000
    expect(s.header.bugCheckParameters[0]).toBe(0x1b58n);
    expect(s.crashTime).toBe('2021-09-14T02:51:58.146Z');
    expect(s.unsupported).toBe('analysis of 0xAA64 (ARM64) dumps is not supported (MemScope analyses x64 Windows memory only); shown: the dump header');
    expect(s.triage).toBeUndefined();
  });

  it('is null for memory MemScope analyses (a full x64 dump, a raw image)', async () => {
    for (const format of ['crashdump-full', 'raw'] as const) {
      const p = path.join(dir, `image.${format}`);
      writeImage(p, format, patternContent([{ start: 0, length: 0x20000 }]));
      expect(await summarizeCrashDump(p, { store })).toBeNull();
    }
  });
});

describe('profile by build number', () => {
  it('refuses to pick when the revisions of a build disagree on an offset the caller reads', async () => {
    const real = await store.load('641F55C592201DCC4F59FACC72EA54DA1');
    const data = real!.profile.data;
    const eprocess = data.types['_EPROCESS']!;
    const moved: ProfileData = {
      ...data,
      pdb: { ...data.pdb, guid: '0'.repeat(32) },
      types: { ...data.types, _EPROCESS: { ...eprocess, fields: { ...eprocess.fields, ImageFileName: { ...eprocess.fields['ImageFileName']!, offset: 0x5b0 } } } },
    };
    const revisions = [new Profile(data), new Profile(moved)];
    const stub: BuildProfileStore = {
      resolveByBuildNumber: async () => revisions.map((p, i) => ({ key: `K${i}`, pdb: 'ntkrnlmp.pdb', guid: p.pdb.guid, age: 1, source: 'bundled' as const, path: '' })),
      load: async (key: string) => ({ profile: revisions[Number(key.slice(1))]!, source: 'bundled' as const }),
    };
    const fields = [['_EPROCESS', 'ImageFileName']] as const;
    const r = await profileForBuild(stub, 19041, fields, []);
    expect(r.profile).toBeNull();
    expect(r.profile === null && r.reason).toBe('the 2 known revisions of build 19041 disagree on the offsets MemScope reads, and the dump does not say which revision it is');
    // the same field at the same offset in both: usable
    const agree = await profileForBuild(stub, 19041, [['_EPROCESS', 'UniqueProcessId']], []);
    expect(agree.profile).toBe(revisions[0]);
  });
});
