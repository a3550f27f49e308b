/**
 * Synthetic process rows for the bench's 10,000-row page (the sample builder writes at most 2,000
 * processes): the shape the engine streams, with a realistic mix of names, statuses and missing fields.
 */
import { PSXVIEW_SOURCES, type ProcessStatus, type ProcessTableRow } from '../../common/contract.js';

const NAMES = ['svchost.exe', 'RuntimeBroker.', 'chrome.exe', 'conhost.exe', 'dllhost.exe', 'explorer.exe', 'taskhostw.exe', 'msedge.exe', 'backgroundTask', 'SearchProtocol', 'WmiPrvSE.exe', 'powershell.exe'];

const hex = (n: bigint): string => `0x${n.toString(16)}`;

export function syntheticRows(count: number, seed = 1): ProcessTableRow[] {
  let s = seed >>> 0;
  const rnd = (): number => { s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0; return s / 2 ** 32; };
  const rows: ProcessTableRow[] = [];
  for (let i = 0; i < count; i++) {
    const r = rnd();
    const status: ProcessStatus = r < 0.01 ? 'hidden' : r < 0.04 ? 'exited' : r < 0.05 ? 'remnant' : 'normal';
    const va = 0xffffb13400000000n + BigInt(i) * 0xa40n + BigInt(Math.floor(rnd() * 64)) * 0x10n;
    const pid = 4 + i * 4;
    const ppid = i === 0 ? 0 : 4 + Math.floor(rnd() * i) * 4;
    const seen = {
      pslist: status === 'normal', psscan: true, thrdscan: status === 'normal' || status === 'hidden',
      cidtable: status === 'normal' || status === 'hidden', csrss: status !== 'exited' && status !== 'remnant', session: status !== 'exited' && status !== 'remnant',
    };
    const exitTime = status === 'exited' ? new Date(Date.UTC(2023, 0, 12, 17, Math.floor(rnd() * 60))).toISOString() : null;
    const name = NAMES[Math.floor(rnd() * NAMES.length)]!;
    const evidence: ProcessTableRow['evidence'] = {};
    for (const src of PSXVIEW_SOURCES) evidence[src] = seen[src] ? `${src}: seen at ${hex(va)}` : `${src}: not seen`;
    rows.push({
      key: hex(va),
      status,
      evidence,
      psxview: {
        offset: hex(va), pid, name, ...seen, exitTime,
        verdict: status === 'hidden' ? 'hidden: unlinked from the active list but has live threads (DKOM)'
          : status === 'exited' ? `exited: at ${exitTime}` : status === 'remnant' ? 'remnant: only in pool, no threads' : 'normal: listed everywhere',
        status,
      },
      process: {
        pid, ppid, name, imagePath: `C:\\Windows\\System32\\${name}`, commandLine: `${name} -k netsvcs -p -s ${i}`,
        offset: hex(va), physicalOffset: hex(0x1000000n + BigInt(i) * 0x1000n), dtb: hex(0x1aa000n + BigInt(i) * 0x2000n), userDtb: null,
        createTime: new Date(Date.UTC(2023, 0, 12, 8, 0, 0) + i * 1000).toISOString(), exitTime,
        threads: status === 'exited' || status === 'remnant' ? 0 : 1 + Math.floor(rnd() * 40), sessionId: rnd() < 0.2 ? 0 : 1, wow64: rnd() < 0.1,
        missing: [], warnings: [],
        parentName: null, kernelImagePath: `\\Device\\HarddiskVolume3\\Windows\\System32\\${name}`, currentDirectory: 'C:\\Windows\\system32\\', whyAbsent: { parentName: 'not resolved' },
      },
    });
  }
  return rows;
}
