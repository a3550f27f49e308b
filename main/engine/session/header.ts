/** The session header (contract SessionInfo): what was opened and what discovery found. */
import { basename } from 'node:path';
import type { SessionInfo } from '../../../common/contract.js';
import type { PhysicalSource } from '../sources/physical-source.js';
import type { DiscoveryReport } from '../windows/discovery/types.js';
import type { WindowsKernel } from '../windows/kernel.js';
import { hex } from '../util/hex.js';
import { readImageTime } from '../windows/image-time.js';
import { isCrashDumpSource } from '../sources/crashdump.js';
import { readAcquisitionSidecar } from '../sources/acquisition-sidecar.js';

/** Capture and boot time from the kernel, cross-checked with the dump header or the acquisition sidecar (image paths). */
function imageTime(path: string | null, source: PhysicalSource, kernel: WindowsKernel): { time: NonNullable<SessionInfo['time']>; warnings: string[] } {
  const side = path === null ? { sidecar: null, problem: null } : readAcquisitionSidecar(path);
  const dumpTime = isCrashDumpSource(source) ? source.crash.systemTime : undefined;
  const t = readImageTime({
    kernel: kernel.kernel, profile: kernel.profile, kernelBase: kernel.kernelBase, live: source.kind === 'winpmem',
    ...(dumpTime !== undefined ? { dumpHeaderTime: dumpTime } : {}),
    ...(side.sidecar ? { sidecar: side.sidecar } : {}),
  });
  const { warnings, ...time } = t;
  return { time, warnings: side.problem ? [side.problem, ...warnings] : [...warnings] };
}

/** `imagePath`: the image file opened (null for an already-open source): its acquisition sidecar is read. */
export function sessionInfo(id: string, path: string, source: PhysicalSource, kernel: WindowsKernel, report: DiscoveryReport, openMs: number, imagePath: string | null = null): SessionInfo {
  const acc = report.accepted;
  const { time, warnings: timeWarnings } = imageTime(imagePath, source, kernel);
  return {
    sessionId: id,
    source: { path, fileName: basename(path), format: source.kind, size: source.size, runs: source.runs().length, live: source.kind === 'winpmem' },
    kernel: {
      kernelBase: hex(kernel.kernelBase),
      dtb: hex(kernel.dtb),
      dtbRaw: hex(kernel.dtbRaw),
      dtbMethod: kernel.dtbMethod,
      build: kernel.buildNumber,
      pdb: acc?.pdb ? { name: acc.pdb.name, guid: acc.pdb.guid, age: acc.pdb.age } : null,
      profileLabel: kernel.profile.label,
      profileSource: acc?.profileSource ?? kernel.profileSource,
    },
    timings: { ...report.timings, open: Math.round(openMs * 10) / 10 },
    warnings: [...report.warnings, ...timeWarnings],
    time,
  };
}
