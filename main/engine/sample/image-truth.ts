import { hex } from '../util/hex.js';
import { hidesUserSpace, type DirBaseFault } from './dirbase-faults.js';
import type { AddressSpace } from './paging.js';
import { filetimeToIso, imageFileName } from './plan.js';
import { isAlive, type BuiltProcess } from './process-objects.js';
import type { TruthProcess } from './truth.js';
import { currentDirectoryOf, kernelImagePathOf } from './process-audit.js';

/**
 * What every method must (and must not) find for one built process. A freed block's EPROCESS that
 * still validates is a remnant psscan reports (as Volatility 3's does). A DirBase of zero makes the
 * EPROCESS invalid to every source but the list walk: Volatility 3's `EPROCESS.is_valid()`
 * (framework/symbols/windows/extensions/__init__.py: `if dtb & ~0xFFF == 0: return False`) is what
 * its psxview `_filter_garbage_procs` applies to the psscan, thrdscan and csrss sources.
 */
export function truthProcess(
  ks: AddressSpace, b: BuiltProcess, csrssHolders: ReadonlyMap<number, number[]>, eprocSize: number, fault?: DirBaseFault,
): TruthProcess {
  const pa = ks.translate(b.obj.bodyVa);
  if (pa === null) throw new RangeError('EPROCESS not mapped');
  const validEprocess = (b.dtb & ~0xfffn) !== 0n;
  const live = isAlive(b) && validEprocess;
  const userSpace = b.p.hasPeb && b.peb !== 0n && !hidesUserSpace(fault);
  const inCsrss = [...csrssHolders.values()].some((held) => held.includes(b.p.pid));
  const eEnd = b.obj.bodyVa + BigInt(eprocSize - 1);
  return {
    pid: b.p.pid,
    ppid: b.p.ppid,
    name: imageFileName(b.p.exe),
    imagePath: userSpace ? b.p.imagePath : null,
    commandLine: userSpace ? b.p.commandLine : null,
    currentDirectory: userSpace ? currentDirectoryOf(b.p) : null,
    kernelImagePath: kernelImagePathOf(b.p),
    offset: hex(b.obj.bodyVa),
    physicalOffset: hex(pa),
    dtb: hex(b.dtb),
    userDtb: b.userDtb === 0n ? null : hex(b.userDtb),
    createTime: filetimeToIso(b.p.createTime),
    exitTime: b.p.exitTime === null ? null : filetimeToIso(b.p.exitTime),
    threads: b.p.threads.length,
    sessionId: b.p.session,
    wow64: b.p.wow64,
    foundBy: {
      pslist: b.p.kind === 'live',
      psscan: validEprocess,
      thrdscan: live && b.p.threads.length > 0,
      cidtable: live,
      csrss: inCsrss && validEprocess,
      session: live && b.p.session !== null,
    },
    planted: fault !== undefined ? [...b.p.planted, `dirbase-${fault}`] : b.p.planted.length ? b.p.planted : b.dtb & 0xfffn ? ['pcid-dtb'] : ['normal'],
    straddles: (b.obj.bodyVa >> 12n) !== (eEnd >> 12n),
    threadIds: b.p.threads.map((t) => t.tid),
    threadOffsets: b.threads.map((t) => hex(t.bodyVa)),
    objectHeader: hex(b.obj.headerVa),
    poolHeader: hex(b.obj.block.va),
    infoMask: b.obj.infoMask,
  };
}
