/** The session header (contract SessionInfo): what was opened and what discovery found. */
import { basename } from 'node:path';
import type { SessionInfo } from '../../../common/contract.js';
import type { PhysicalSource } from '../sources/physical-source.js';
import type { DiscoveryReport } from '../windows/discovery/types.js';
import type { WindowsKernel } from '../windows/kernel.js';
import { hex } from '../util/hex.js';

export function sessionInfo(id: string, path: string, source: PhysicalSource, kernel: WindowsKernel, report: DiscoveryReport, openMs: number): SessionInfo {
  const acc = report.accepted;
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
    warnings: [...report.warnings],
  };
}
