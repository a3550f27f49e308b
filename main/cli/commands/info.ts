/**
 * `memscope info <image> [--format json|table]`: what the image is (format detected from content),
 * its physical runs and size, and the hints its header carries. basicInfo() builds the JSON so
 * kernel discovery can extend the same object (kernelBase, dtb, build …) without re-deriving it.
 */
import type { Command } from 'commander';
import { hex } from '../../engine/util/hex.js';
import { isCrashDumpSource } from '../../engine/sources/crashdump.js';
import { cliTarget, DRIVER_OPTION, LIVE_OPTION, openTarget, type LiveFlags } from '../live.js';
import type { PhysicalSource, SourceHints } from '../../engine/sources/physical-source.js';
import { parseFormat, renderTable, type CliIo } from '../context.js';
import type { RegisterCommand } from './index.js';
import { kernelInfo, type ImageTimeJson } from './kernel-info.js';
import { renderCrashSummary } from './info-crash-summary.js';
import { summarizeCrashDump } from '../../engine/windows/triage/summary.js';
import { crashSummaryJson } from '../../engine/windows/triage/summary-json.js';
import type { KernelInfoJson } from '../../engine/windows/discovery/report-json.js';

export interface BasicInfo {
  path: string;
  /** The source kind: raw | elf-core | crashdump-full | crashdump-bitmap | winpmem. */
  format: string;
  /** Highest physical address served + 1, hex. */
  size: string;
  runs: { base: string; length: string }[];
  /** Addresses and machine type as hex strings; versions and counts as numbers. */
  hints: Record<string, string | number>;
  /** --live only: whether the device is simulated, the acquisition mode and what to know about it. */
  live?: { simulated: boolean; mode: string; notes: string[] };
  /** Crash dumps only: header facts that are not hints. */
  crashDump?: { dumpType: number; bugCheckCode: string; pfnDataBase: string; bitmapSignature?: string };
}

const HEX_HINTS: readonly (keyof SourceHints)[] = ['dtb', 'kernelBase', 'psActiveProcessHead', 'psLoadedModuleList', 'kdDebuggerDataBlock', 'machineImageType'];
const NUMBER_HINTS: readonly (keyof SourceHints)[] = ['majorVersion', 'minorVersion', 'buildNumber', 'numberOfProcessors'];

export function basicInfo(source: PhysicalSource): BasicInfo {
  const hints: Record<string, string | number> = {};
  for (const k of HEX_HINTS) {
    const v = source.hints[k];
    if (v !== undefined) hints[k] = hex(v);
  }
  for (const k of NUMBER_HINTS) {
    const v = source.hints[k];
    if (v !== undefined) hints[k] = Number(v);
  }
  const info: BasicInfo = {
    path: source.name,
    format: source.kind,
    size: hex(source.size),
    runs: source.runs().map((r) => ({ base: hex(r.start), length: hex(r.length) })),
    hints,
  };
  if (isCrashDumpSource(source)) {
    const c = source.crash;
    info.crashDump = { dumpType: c.dumpType, bugCheckCode: hex(c.bugCheckCode), pfnDataBase: hex(c.pfnDataBase) };
    if (c.bitmapSignature !== undefined) info.crashDump.bitmapSignature = c.bitmapSignature;
  }
  return info;
}

type KernelFacts = Partial<KernelInfoJson> & Partial<ImageTimeJson> & { discoveryError?: string; heuristicProfile?: { confidence: number } };

export function renderInfoTable(info: BasicInfo & KernelFacts): string {
  const facts: [string, string][] = [
    ['path', info.path],
    ['format', info.format],
    ['size', info.size],
    ['runs', String(info.runs.length)],
  ];
  for (const [k, v] of Object.entries(info.hints)) facts.push([`hint ${k}`, String(v)]);
  if (info.crashDump) for (const [k, v] of Object.entries(info.crashDump)) facts.push([k, String(v)]);
  if (info.live) {
    facts.push(['live', info.live.simulated ? 'SIMULATED WinPmem device (MEMSCOPE_SIMULATED_PMEM), not this machine' : 'this machine, through the WinPmem driver']);
    facts.push(['acquisition mode', info.live.mode]);
    for (const n of info.live.notes) facts.push(['note', n]);
  }
  if (info.kernelBase !== undefined) {
    facts.push(['kernel base', info.kernelBase]);
    facts.push(['dtb', `${info.dtb} (as found: ${info.dtbRaw}, by ${info.dtbMethod})`]);
    facts.push(['build', info.build === null || info.build === undefined ? 'unknown' : String(info.build)]);
    if (info.pdb) facts.push(['pdb', `${info.pdb.name} ${info.pdb.guid}/${info.pdb.age}`]);
    const conf = info.heuristicProfile ? ` (confidence ${info.heuristicProfile.confidence.toFixed(2)})` : '';
    facts.push(['profile', `${info.profileSource ?? 'none'}${conf}`]);
    if (info.timings?.['total'] !== undefined) facts.push(['discovery time', `${info.timings['total'].toFixed(0)} ms`]);
    if (info.captureSource !== undefined) {
      const check = info.timeCrossCheck ? `; ${info.timeCrossCheck.agrees ? 'agrees with' : 'DISAGREES with'} ${info.timeCrossCheck.source} ${info.timeCrossCheck.time}` : '';
      facts.push(['captured', `${info.captureTime ?? 'unknown'} (${info.captureSource}${check})`]);
      facts.push(['booted', info.bootTime === null || info.bootTime === undefined ? 'unknown' : `${info.bootTime} (${info.bootRule})`]);
      for (const w of info.timeWarnings ?? []) facts.push(['time warning', w]);
    }
  } else if (info.discoveryError !== undefined) {
    facts.push(['kernel', info.discoveryError]);
  }
  const width = Math.max(...facts.map(([k]) => k.length));
  const head = facts.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n\n';
  const rows = info.runs.map((r) => [r.base, hex(Number(r.base) + Number(r.length)), r.length]);
  return head + renderTable(['START', 'END', 'LENGTH'], rows);
}

export const register: RegisterCommand = (program: Command, io: CliIo) => {
  program
    .command('info')
    .description('show an image\'s format, physical runs, size and header hints')
    .argument('[image]', 'memory image: raw, ELF core or Windows crash dump (detected from content), or --live')
    .option(...LIVE_OPTION)
    .option(...DRIVER_OPTION)
    .option('--format <format>', 'json or table', 'table')
    .option('--allow-network', 'fetch a missing kernel profile from the symbol server')
    .option('--heuristic-profile', 'ignore known profiles and derive offsets from memory (what happens for an unknown build)')
    .action(async (imageArg: string | undefined, opts: LiveFlags & { format?: string; allowNetwork?: boolean; heuristicProfile?: boolean }) => {
      const format = parseFormat(opts.format, ['json', 'table'], 'table');
      const target = cliTarget(imageArg, opts, io);
      // A triage or non-x64 dump holds no physical memory to open: show what its headers say.
      const summary = typeof target === 'string' ? await summarizeCrashDump(target) : null;
      if (summary) return void io.out(renderCrashSummary(crashSummaryJson(summary), format));
      const source = openTarget(target);
      try {
        // kernel discovery (issue 5) adds kernelBase, dtb, dtbRaw, dtbMethod, build, pdb, profileSource, timings
        const info: BasicInfo & KernelFacts = basicInfo(source);
        if (typeof target !== 'string') info.live = liveInfo(source, target.kind === 'simulated');
        Object.assign(info, await kernelInfo(target, opts.allowNetwork === true, opts.heuristicProfile === true));
        io.out(format === 'json' ? JSON.stringify(info, null, 2) + '\n' : renderInfoTable(info));
      } finally {
        source.close();
      }
    });
};

/** What `info --live` says about the device: simulated or not, the mode, the notes. */
function liveInfo(source: PhysicalSource, simulated: boolean): { simulated: boolean; mode: string; notes: string[] } {
  const live = source as PhysicalSource & { mode?: string | null; notes?: readonly string[] };
  return { simulated, mode: live.mode ?? 'as already set in the driver', notes: [...(live.notes ?? [])] };
}
