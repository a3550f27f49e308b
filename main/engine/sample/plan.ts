import type { Prng } from './prng.js';

/**
 * What processes the sample machine runs: names, PIDs, parent tree, sessions, times, threads and the
 * planted cases. Pure data (no memory layout), drawn from the seeded PRNG.
 */
export type ProcessKind = 'live' | 'dkom' | 'exited' | 'remnant' | 'freed';

export interface PlannedThread {
  readonly tid: number;
  readonly createTime: bigint; // FILETIME
}

export interface PlannedProcess {
  readonly exe: string;
  readonly imagePath: string | null;
  readonly commandLine: string | null;
  readonly pid: number;
  readonly ppid: number;
  readonly session: number | null;
  readonly createTime: bigint;
  readonly exitTime: bigint | null;
  readonly threads: PlannedThread[];
  readonly kind: ProcessKind;
  readonly planted: string[];
  /** KVA shadow: UserDirectoryTableBase set and DirBase carrying PCID-like low bits (…002). */
  readonly kvaShadow: boolean;
  readonly straddle: boolean;
  readonly wow64: boolean;
  /** PEB + process parameters mapped in its user space. */
  readonly hasPeb: boolean;
}

export interface ProcessPlan {
  readonly processes: PlannedProcess[];
  readonly bootTime: bigint;
  /** When the image is taken (FILETIME): after every create and exit (KUSER_SHARED_DATA.SystemTime). */
  readonly captureTime: bigint;
  /** Highest CID handed out (decides PspCidTable level). */
  readonly maxCid: number;
}

const FILETIME_UNIX_EPOCH_MS = 11_644_473_600_000n;
export const filetimeFromMs = (ms: number): bigint => (BigInt(Math.round(ms)) + FILETIME_UNIX_EPOCH_MS) * 10_000n;
export function filetimeToIso(ft: bigint): string {
  return new Date(Number(ft / 10_000n - FILETIME_UNIX_EPOCH_MS)).toISOString();
}

const SYS32 = 'C:\\Windows\\System32\\';

interface Template {
  exe: string;
  path: string;
  args?: string;
  session: 0 | 1;
  parent: 'services' | 'svchost-dcom' | 'explorer' | 'winlogon' | 'wininit';
}

/** Extra processes (`--processes N`): ordinary things a Windows 10/11 desktop runs. */
const EXTRAS: readonly Template[] = [
  { exe: 'RuntimeBroker.exe', path: SYS32 + 'RuntimeBroker.exe', args: '-Embedding', session: 1, parent: 'svchost-dcom' },
  { exe: 'dllhost.exe', path: SYS32 + 'dllhost.exe', args: '/Processid:{AB8902B4-09CA-4BB6-B78D-A8F59079A8D5}', session: 1, parent: 'svchost-dcom' },
  { exe: 'taskhostw.exe', path: SYS32 + 'taskhostw.exe', args: '{222A245B-E637-4AE9-A93F-A59CA119A75E}', session: 1, parent: 'services' },
  { exe: 'ctfmon.exe', path: SYS32 + 'ctfmon.exe', session: 1, parent: 'services' },
  { exe: 'SearchIndexer.exe', path: SYS32 + 'SearchIndexer.exe', args: '/Embedding', session: 0, parent: 'services' },
  { exe: 'spoolsv.exe', path: SYS32 + 'spoolsv.exe', session: 0, parent: 'services' },
  { exe: 'MsMpEng.exe', path: 'C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.2205.7-0\\MsMpEng.exe', session: 0, parent: 'services' },
  { exe: 'SecurityHealthService.exe', path: SYS32 + 'SecurityHealthService.exe', session: 0, parent: 'services' },
  { exe: 'WmiPrvSE.exe', path: SYS32 + 'wbem\\WmiPrvSE.exe', session: 0, parent: 'svchost-dcom' },
  { exe: 'StartMenuExperienceHost.exe', path: 'C:\\Windows\\SystemApps\\Microsoft.Windows.StartMenuExperienceHost_cw5n1h2txyewy\\StartMenuExperienceHost.exe', args: '-ServerName:App.AppXywbrabmsek0gm3tkwpr5kwzbs55tkqay.mca', session: 1, parent: 'svchost-dcom' },
  { exe: 'notepad.exe', path: SYS32 + 'notepad.exe', args: 'C:\\Users\\analyst\\Desktop\\notes.txt', session: 1, parent: 'explorer' },
  { exe: 'cmd.exe', path: SYS32 + 'cmd.exe', session: 1, parent: 'explorer' },
  { exe: 'powershell.exe', path: SYS32 + 'WindowsPowerShell\\v1.0\\powershell.exe', args: '-NoProfile', session: 1, parent: 'explorer' },
  { exe: 'msedge.exe', path: 'C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe', args: '--no-startup-window', session: 1, parent: 'explorer' },
  { exe: 'OneDrive.exe', path: 'C:\\Users\\analyst\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe', args: '/background', session: 1, parent: 'explorer' },
  { exe: 'fontdrvhost.exe', path: SYS32 + 'fontdrvhost.exe', session: 1, parent: 'winlogon' },
];

export interface PlanOptions {
  readonly buildNumber: number;
  readonly extraProcesses: number;
}

export function planProcesses(rng: Prng, opts: PlanOptions): ProcessPlan {
  const win10 = opts.buildNumber >= 10240;
  // Compact CID numbering keeps PspCidTable at level 0; otherwise PIDs spread and it needs level 1.
  const compact = rng.bool(0.3) && opts.extraProcesses <= 8;
  let cid = 4;
  const nextCid = (): number => {
    const v = cid;
    cid += compact ? 4 : 4 * rng.int(1, 24);
    return v;
  };
  // Boot somewhere in 2021..2023, UTC.
  let clock = Date.UTC(2021, 0, 1) + rng.int(0, 3 * 365) * 86_400_000 + rng.int(0, 86_399) * 1000;
  const bootTime = filetimeFromMs(clock);
  const tick = (minMs: number, maxMs: number): bigint => {
    clock += rng.int(minMs, maxMs);
    return filetimeFromMs(clock);
  };

  const out: PlannedProcess[] = [];
  const add = (
    exe: string,
    ppid: number,
    session: number | null,
    path: string | null,
    args: string | null,
    extra: Partial<Pick<PlannedProcess, 'kind' | 'planted' | 'kvaShadow' | 'straddle' | 'wow64' | 'hasPeb'>> & { threads?: number } = {},
    when: [number, number] = [50, 3000],
  ): PlannedProcess => {
    const pid = nextCid();
    const createTime = exe === 'System' ? bootTime : tick(when[0], when[1]);
    const kind = extra.kind ?? 'live';
    const nThreads = kind === 'exited' || kind === 'remnant' || kind === 'freed' ? 0 : (extra.threads ?? rng.int(1, 5));
    const threads: PlannedThread[] = [];
    for (let i = 0; i < nThreads; i++) threads.push({ tid: nextCid(), createTime: createTime + BigInt(rng.int(0, 20_000_000) * i) });
    const commandLine = path === null ? null : args ? `${quoteIfSpaced(path)} ${args}` : path;
    const p: PlannedProcess = {
      exe, imagePath: path, commandLine, pid, ppid, session, createTime,
      exitTime: null, threads, kind,
      planted: extra.planted ?? [],
      kvaShadow: extra.kvaShadow ?? (win10 && exe !== 'System' && rng.bool(0.6)),
      straddle: extra.straddle ?? rng.bool(0.2),
      wow64: extra.wow64 ?? false,
      hasPeb: extra.hasPeb ?? path !== null,
    };
    out.push(p);
    return p;
  };

  const system = add('System', 0, null, null, null, { threads: rng.int(4, 8), kvaShadow: false, straddle: false });
  if (opts.buildNumber >= 17134) add('Registry', system.pid, null, null, null, { threads: rng.int(2, 4), straddle: false }, [10, 200]);
  const smss = add('smss.exe', system.pid, null, '\\SystemRoot\\System32\\smss.exe', null, { straddle: false }, [200, 1500]);
  // smss starts one short-lived copy of itself per session; those exit, leaving orphan PPIDs.
  const smss0 = nextCid();
  const csrssArgs = 'ObjectDirectory=\\Windows SharedSection=1024,20480,768 Windows=On SubSystemType=Windows ServerDll=basesrv,1 ServerDll=winsrv:UserServerDllInitialization,3 ServerDll=sxssrv,4 ProfileControl=Off MaxRequestThreads=16';
  add('csrss.exe', smss0, 0, SYS32 + 'csrss.exe', csrssArgs, { straddle: false });
  const wininit = add('wininit.exe', smss0, 0, SYS32 + 'wininit.exe', null);
  const smss1 = nextCid();
  add('csrss.exe', smss1, 1, SYS32 + 'csrss.exe', csrssArgs, { straddle: false });
  const winlogon = add('winlogon.exe', smss1, 1, SYS32 + 'winlogon.exe', null);
  const services = add('services.exe', wininit.pid, 0, SYS32 + 'services.exe', null);
  add('lsass.exe', wininit.pid, 0, SYS32 + 'lsass.exe', null);
  const svcDcom = add('svchost.exe', services.pid, 0, SYS32 + 'svchost.exe', '-k DcomLaunch -p');
  add('svchost.exe', services.pid, 0, SYS32 + 'svchost.exe', '-k RPCSS -p');
  const svcNet = add('svchost.exe', services.pid, 0, SYS32 + 'svchost.exe', '-k netsvcs -p', { straddle: true });
  add('svchost.exe', services.pid, 0, SYS32 + 'svchost.exe', '-k LocalServiceNetworkRestricted -p');
  add('dwm.exe', winlogon.pid, 1, SYS32 + 'dwm.exe', null);
  const userinit = nextCid(); // userinit.exe starts explorer and exits
  const explorer = add('explorer.exe', userinit, 1, 'C:\\Windows\\Explorer.EXE', null, {}, [20_000, 60_000]);
  if (win10) {
    add('sihost.exe', svcNet.pid, 1, SYS32 + 'sihost.exe', null);
    // The seed's case: DirBase with low bits set (0x…002) must not make a reader skip it.
    add('LockApp.exe', svcDcom.pid, 1,
      'C:\\Windows\\SystemApps\\Microsoft.LockApp_cw5n1h2txyewy\\LockApp.exe',
      '-ServerName:WindowsDefaultLockScreen.AppX7y4nbzq37zn4ks9k7amqjywdat7d3j2z.mca',
      { kvaShadow: true, planted: ['pcid-dtb'] });
  }
  const parents = { services: services.pid, 'svchost-dcom': svcDcom.pid, explorer: explorer.pid, winlogon: winlogon.pid, wininit: wininit.pid };
  let wowDone = false;
  for (let i = 0; i < opts.extraProcesses; i++) {
    const t = rng.pick(EXTRAS);
    const wow64 = !wowDone && t.exe === 'OneDrive.exe';
    if (wow64) wowDone = true;
    add(t.exe, parents[t.parent], t.session, t.path, t.args ?? null, { wow64 }, [500, 120_000]);
  }
  // Planted cases.
  add('winupd.exe', explorer.pid, 1, 'C:\\Users\\analyst\\AppData\\Roaming\\winupd.exe', '-silent',
    { kind: 'dkom', planted: ['dkom-unlinked'], threads: rng.int(2, 3) }, [10_000, 60_000]);
  const exited = add('cmd.exe', explorer.pid, 1, SYS32 + 'cmd.exe', '/c ipconfig /all',
    { kind: 'exited', planted: ['exited'], hasPeb: false }, [10_000, 60_000]);
  add('conhost.exe', exited.pid, 1, SYS32 + 'conhost.exe', '0xffffffff -ForceV1',
    { kind: 'remnant', planted: ['remnant'], hasPeb: false }, [5, 50]);
  add('setup.exe', explorer.pid, 1, 'C:\\Users\\analyst\\Downloads\\setup.exe', null,
    { kind: 'freed', planted: ['freed-pool-block', 'exited'], hasPeb: false, straddle: false }, [1000, 9000]);

  // Exit times for the dead ones: after they started, before the image was taken.
  const now = clock + rng.int(60_000, 600_000);
  const final = out.map((p) => {
    if (p.kind === 'exited' || p.kind === 'freed') {
      const startMs = Number(p.createTime / 10_000n - FILETIME_UNIX_EPOCH_MS);
      return { ...p, exitTime: filetimeFromMs(startMs + rng.int(200, Math.max(300, now - startMs - 1))) };
    }
    return p;
  });
  return { processes: final, bootTime, captureTime: filetimeFromMs(now), maxCid: cid - 4 };
}

function quoteIfSpaced(path: string): string {
  return path.includes(' ') ? `"${path}"` : path;
}

/** ImageFileName as the kernel stores it: at most 14 characters plus the terminating NUL. */
export function imageFileName(exe: string): string {
  return exe.slice(0, 14);
}
