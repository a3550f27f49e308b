/**
 * The JSON `memscope info` prints for a crash dump it can only summarise (triage, or not x64): the
 * same top-level keys as for any image (path, format, size, runs, hints, crashDump), with no
 * physical runs, plus `triage` (what a triage dump holds) or `unsupported` (why nothing more).
 * Addresses are hex strings, counts numbers, as everywhere in info's JSON.
 */
import { hex } from '../../util/hex.js';
import { DUMP_TYPE, headerHints } from '../../sources/crashdump-header.js';
import type { CrashDumpSummary } from './summary.js';

export interface DriverJson {
  name: string;
  path: string;
  base: string;
  size: string;
  timeDateStamp: string;
}

export interface CrashSummaryJson {
  path: string;
  format: string;
  /** A triage dump serves no physical memory: "0x0" and no runs. */
  size: string;
  runs: { base: string; length: string }[];
  hints: Record<string, string | number>;
  build: number;
  machine: string;
  kernelBase?: string;
  crashDump: {
    dumpType: number;
    bugCheckCode: string;
    bugCheckParameters: string[];
    /** Per parameter: the driver it points into ("amdppm.sys+0x334c") or null. */
    bugCheckParameterDrivers: (string | null)[];
    crashTime: string | null;
    upTimeSeconds: number | null;
    pfnDataBase: string;
  };
  unsupported?: string;
  triage?: {
    memoryPages: number;
    dataBlocks: number;
    dataBytes: number;
    kernelBase: string | null;
    kernelBaseFrom: string;
    kdbg: { offset: string; size: string; kernBase: string; psLoadedModuleList: string; psActiveProcessHead: string } | null;
    crashingThread: {
      ethread: string | null;
      threadId: number | null;
      process: { eprocess: string | null; pid: number | null; imageFileName: string | null; dtb: string | null };
      profile: string;
    } | null;
    notes: string[];
    drivers: DriverJson[];
  };
}

const FORMAT: Readonly<Record<number, string>> = {
  [DUMP_TYPE.full]: 'crashdump-full',
  [DUMP_TYPE.triage]: 'crashdump-triage',
  [DUMP_TYPE.bitmapFull]: 'crashdump-bitmap',
  [DUMP_TYPE.bitmapKernel]: 'crashdump-bitmap',
};

const hexOrNull = (v: bigint | number | null): string | null => (v === null ? null : hex(v));

export function crashSummaryJson(s: CrashDumpSummary): CrashSummaryJson {
  const h = s.header;
  const hints: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(headerHints(h))) hints[k] = typeof v === 'bigint' || k === 'machineImageType' ? hex(v as bigint | number) : (v as number);
  const t = s.triage;
  if (t?.kernelBase != null) hints['kernelBase'] = hex(t.kernelBase);
  const out: CrashSummaryJson = {
    path: s.path,
    format: FORMAT[h.dumpType] ?? `crashdump (DumpType ${h.dumpType})`,
    size: '0x0',
    runs: [],
    hints,
    build: s.buildNumber,
    machine: s.machine,
    crashDump: {
      dumpType: h.dumpType,
      bugCheckCode: hex(h.bugCheckCode),
      bugCheckParameters: h.bugCheckParameters.map((p) => hex(p)),
      bugCheckParameterDrivers: [...s.bugCheckParameterDrivers],
      crashTime: s.crashTime,
      upTimeSeconds: s.upTimeSeconds,
      pfnDataBase: hex(h.pfnDataBase),
    },
  };
  if (s.unsupported !== undefined) out.unsupported = s.unsupported;
  if (t) {
    if (t.kernelBase !== null) out.kernelBase = hex(t.kernelBase);
    const ct = t.crashingThread;
    out.triage = {
      memoryPages: t.memoryPages,
      dataBlocks: t.dataBlocks,
      dataBytes: t.dataBytes,
      kernelBase: hexOrNull(t.kernelBase),
      kernelBaseFrom: ['KDBG KernBase', ...t.kernelBaseEvidence].join('; '),
      kdbg: t.kdbg && {
        offset: hex(t.kdbg.offset), size: hex(t.kdbg.size), kernBase: hex(t.kdbg.kernBase),
        psLoadedModuleList: hex(t.kdbg.psLoadedModuleList), psActiveProcessHead: hex(t.kdbg.psActiveProcessHead),
      },
      crashingThread: ct && {
        ethread: hexOrNull(ct.ethread),
        threadId: ct.threadId,
        process: { eprocess: hexOrNull(ct.process.eprocess), pid: ct.process.pid, imageFileName: ct.process.imageFileName, dtb: hexOrNull(ct.process.directoryTableBase) },
        profile: ct.profile,
      },
      notes: [...t.notes],
      drivers: t.drivers.map((d) => ({ name: d.name, path: d.path, base: hex(d.base), size: hex(d.size), timeDateStamp: hex(d.timeDateStamp) })),
    };
  }
  return out;
}
