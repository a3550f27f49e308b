/**
 * What `memscope info` can say about a Windows crash dump MemScope cannot analyse as physical
 * memory: a kernel triage dump (DumpType 4), or a dump of another architecture (ARM64). From the
 * DUMP_HEADER64: build, bugcheck code and parameters, crash time, DTB, list heads, processors. From
 * a triage dump also: the kernel base (the KDBG copy's KernBase), the crashing thread and its process
 * (decoded from the copies the dump holds with the build's profile), and the loaded drivers.
 */
import { filetimeToIso, StructView } from '../struct-view.js';
import { ProfileStore } from '../../profile/store.js';
import type { Profile } from '../../profile/profile.js';
import { ImageFile } from '../../sources/image-file.js';
import {
  buildNumberOf, DUMP_TYPE, machineName, machineRecorded, MACHINE_X64, readDumpHeader, type DumpHeader64,
} from '../../sources/crashdump-header.js';
import { TriageDump } from '../../sources/triage/triage-dump.js';
import type { KdbgCopy } from '../../sources/triage/kdbg.js';
import type { TriageDriver } from '../../sources/triage/driver-list.js';
import { PROCESS_OBJECT_TYPE } from '../heuristic-profile/find-system.js';
import { profileForBuild, type FieldPath } from './build-profile.js';

/** ThreadObject in _KOBJECTS: _DISPATCHER_HEADER.Type of every _KTHREAD. */
const THREAD_OBJECT_TYPE = 6;

export interface CrashingProcess {
  /** The thread's Tcb.Process. */
  readonly eprocess: bigint | null;
  readonly pid: number | null;
  readonly imageFileName: string | null;
  /** Pcb.DirectoryTableBase as stored (low bits kept). */
  readonly directoryTableBase: bigint | null;
}

export interface CrashingThread {
  /** The crashing CPU's KPRCB.CurrentThread. */
  readonly ethread: bigint | null;
  readonly threadId: number | null;
  readonly process: CrashingProcess;
  /** Which profile decoded the copies. */
  readonly profile: string;
}

export interface TriageFacts {
  /** Distinct 4 KiB pages of kernel virtual memory the dump holds. */
  readonly memoryPages: number;
  readonly dataBlocks: number;
  readonly dataBytes: number;
  readonly kdbg: KdbgCopy | null;
  /** KernBase of the KDBG copy. */
  readonly kernelBase: bigint | null;
  /** What confirms the kernel base, from the dump's own bytes. */
  readonly kernelBaseEvidence: readonly string[];
  readonly crashingThread: CrashingThread | null;
  readonly drivers: readonly TriageDriver[];
  /** What could not be decoded, and why. */
  readonly notes: readonly string[];
}

export interface CrashDumpSummary {
  readonly path: string;
  readonly header: DumpHeader64;
  readonly buildNumber: number;
  /** "0x8664 (x64)". */
  readonly machine: string;
  readonly crashTime: string | null;
  readonly upTimeSeconds: number | null;
  /** Per bugcheck parameter: "amdppm.sys+0x334c" when it points into a loaded driver. */
  readonly bugCheckParameterDrivers: readonly (string | null)[];
  /** Why the dump is not analysed further (another architecture); absent for an x64 triage dump. */
  readonly unsupported?: string;
  readonly triage?: TriageFacts;
}

export interface SummaryOptions {
  /** Where build profiles come from (default: bundled + user cache, never the network). */
  readonly store?: ProfileStore;
}

/**
 * The summary of `path` when it is a crash dump only `info` can read (triage, or not x64); null for
 * every other image, which the caller opens as physical memory. Read-only, one line on bad input.
 */
export async function summarizeCrashDump(path: string, opts: SummaryOptions = {}): Promise<CrashDumpSummary | null> {
  const file = ImageFile.open(path);
  let dump: TriageDump | null = null;
  try {
    if (file.readAt(0, 8).toString('latin1') !== 'PAGEDU64') return null;
    const header = readDumpHeader(file);
    const x64 = !machineRecorded(header) || header.machineImageType === MACHINE_X64;
    if (x64 && header.dumpType !== DUMP_TYPE.triage) return null;
    const base = {
      path,
      header,
      buildNumber: buildNumberOf(header),
      machine: machineName(machineRecorded(header) ? header.machineImageType : MACHINE_X64),
      crashTime: header.systemTime === undefined ? null : filetimeToIso(header.systemTime),
      upTimeSeconds: header.systemUpTime === undefined ? null : Number(header.systemUpTime / 10_000n) / 1000,
    };
    if (!x64) {
      return {
        ...base,
        bugCheckParameterDrivers: header.bugCheckParameters.map(() => null),
        unsupported: `analysis of ${machineName(header.machineImageType)} dumps is not supported (MemScope analyses x64 Windows memory only); shown: the dump header`,
      };
    }
    dump = TriageDump.fromFile(file, header);
    const triage = await triageFacts(dump, opts.store ?? new ProfileStore());
    return { ...base, bugCheckParameterDrivers: header.bugCheckParameters.map((p) => driverAt(triage.drivers, p)), triage };
  } finally {
    file.close(); // dump shares the file
  }
}

async function triageFacts(dump: TriageDump, store: ProfileStore): Promise<TriageFacts> {
  const notes: string[] = [];
  const drivers = dump.drivers();
  const kdbg = dump.kdbg();
  const kernelBase = kdbg?.kernBase ?? null;
  const evidence: string[] = [];
  if (kernelBase === null) notes.push('no KDBG copy (DebuggerDataOffset 0): kernel base unknown');
  else {
    const mz = dump.readVirtual(kernelBase, 2);
    if (mz && mz[0] === 0x4d && mz[1] === 0x5a) evidence.push('the dump holds an MZ header at that address');
    const first = drivers[0];
    if (first && first.base === kernelBase) evidence.push(`driver list entry 0 (${first.name}) has the same base`);
  }
  const thread = await crashingThread(dump, store, notes);
  return {
    memoryPages: dump.memory.pages,
    dataBlocks: dump.memory.blocks.length,
    dataBytes: dump.memory.bytes,
    kdbg,
    kernelBase,
    kernelBaseEvidence: evidence,
    crashingThread: thread,
    drivers,
    notes,
  };
}

const FIELDS: readonly FieldPath[] = [
  ['_KPRCB', 'CurrentThread'],
  ['_ETHREAD', 'Tcb.Header.Type'], ['_ETHREAD', 'Tcb.Process'], ['_ETHREAD', 'Cid.UniqueProcess'], ['_ETHREAD', 'Cid.UniqueThread'],
  ['_EPROCESS', 'Pcb.Header.Type'], ['_EPROCESS', 'Pcb.DirectoryTableBase'], ['_EPROCESS', 'UniqueProcessId'], ['_EPROCESS', 'ImageFileName'],
];

/** The crashing thread and its process, from the PRCB, ETHREAD and EPROCESS copies. */
async function crashingThread(dump: TriageDump, store: ProfileStore, notes: string[]): Promise<CrashingThread | null> {
  if (dump.triage.threadOffset === 0 && dump.triage.processOffset === 0) {
    notes.push('the dump holds no thread or process copy (ThreadOffset, ProcessOffset 0)');
    return null;
  }
  const chosen = await profileForBuild(store, buildNumberOf(dump.header), FIELDS, ['_EPROCESS', '_ETHREAD']);
  if (!chosen.profile) {
    notes.push(`crashing thread and process not decoded: ${chosen.reason}`);
    return null;
  }
  const profile = chosen.profile;
  const prcb = view(dump, profile, 'PrcbOffset', '_KPRCB', new StructView(profile, '_KPRCB', 0n, new Uint8Array(0)).resolve('CurrentThread'));
  const thread = view(dump, profile, 'ThreadOffset', '_ETHREAD');
  const process = view(dump, profile, 'ProcessOffset', '_EPROCESS');
  if (thread && thread.u8('Tcb.Header.Type') !== THREAD_OBJECT_TYPE) notes.push(`the copy at ThreadOffset is not a thread (dispatcher type ${thread.u8('Tcb.Header.Type')}, not ${THREAD_OBJECT_TYPE})`);
  if (process && process.u8('Pcb.Header.Type') !== PROCESS_OBJECT_TYPE) notes.push(`the copy at ProcessOffset is not a process (dispatcher type ${process.u8('Pcb.Header.Type')}, not ${PROCESS_OBJECT_TYPE})`);
  const pid = process?.pointer('UniqueProcessId') ?? null;
  const cidProcess = thread?.pointer('Cid.UniqueProcess') ?? null;
  if (pid !== null && cidProcess !== null && pid !== cidProcess) notes.push(`the thread's Cid.UniqueProcess ${cidProcess} is not the process copy's UniqueProcessId ${pid}`);
  const tid = thread?.pointer('Cid.UniqueThread') ?? null;
  return {
    ethread: prcb?.pointer('CurrentThread') ?? null,
    threadId: tid === null ? null : Number(tid),
    process: {
      eprocess: thread?.pointer('Tcb.Process') ?? null,
      pid: pid === null ? null : Number(pid),
      imageFileName: process?.cString('ImageFileName') ?? null,
      directoryTableBase: process?.u64('Pcb.DirectoryTableBase') ?? null,
    },
    profile: chosen.label,
  };
}

/** A profile view over a copied object: the whole type, or only up to `upTo`'s end (the KPRCB is 0xaf00 bytes). */
function view(dump: TriageDump, profile: Profile, field: 'PrcbOffset' | 'ThreadOffset' | 'ProcessOffset', type: string, upTo?: { offset: number; size: number }): StructView | null {
  const length = upTo ? upTo.offset + upTo.size : profile.sizeOf(type);
  const bytes = dump.copyOf(field, length);
  return bytes ? StructView.fromBytes(profile, type, bytes, 0n) : null;
}

/** "amdppm.sys+0x334c" when `address` lies inside a loaded driver. */
function driverAt(drivers: readonly TriageDriver[], address: bigint): string | null {
  for (const d of drivers) {
    if (address >= d.base && address < d.base + BigInt(d.size)) return `${d.name}+0x${(address - d.base).toString(16)}`;
  }
  return null;
}
