import { usageError } from '../errors.js';
import { hex } from '../util/hex.js';
import type { Profile } from '../profile/profile.js';
import { buildAddressSpaces } from './address-spaces.js';
import { u64 } from './bytes.js';
import { plantDecoys, plantReusedProcessBlock } from './decoys.js';
import { plantDirBaseFaults, type DirBaseFaults } from './dirbase-faults.js';
import { HandleTableWriter, writeCidTable, writeProcessHandleTables } from './handle-tables.js';
import { truthProcess } from './image-truth.js';
import { mapKernelImage } from './kernel-image.js';
import { layOutMachine, slotVa } from './kernel-layout.js';
import { mapKernelWorkingSet, plantSoftwarePtes, writeLowStub } from './kernel-paging.js';
import { ObjectFactory, processInfoMasks } from './objects.js';
import { typeIndexOf, writeObjectTypes } from './object-types.js';
import { LARGE_PAGE_SIZE, type SparsePhysicalMemory } from './physmem.js';
import { filetimeFromMs, filetimeToIso, planProcesses } from './plan.js';
import { PoolArena, tagValue } from './pool.js';
import { fillProcessBodies, linkProcessLists } from './process-bodies.js';
import { createProcessObjects } from './process-objects.js';
import { writeSharedUserData } from './shared-user-data.js';
import { Prng } from './prng.js';
import { plantUnmappedRemnant } from './remnant.js';
import { createSessionSpaces } from './session-spaces.js';
import type { GroundTruth } from './truth.js';

export { physicalRuns } from './kernel-layout.js';

/** Options of the in-memory model (format/output handled by the caller). */
export interface ImageOptions {
  readonly sizeMiB: number;
  readonly processes: number;
  readonly seed: number;
  readonly lowStub: boolean;
  readonly selfRefIndex?: number;
  readonly kernelBase?: bigint;
  /** Bad DirBases planted on named running processes (none unless set: sample bytes unchanged). */
  readonly dirBaseFaults?: DirBaseFaults;
}

export interface SampleImage {
  readonly mem: SparsePhysicalMemory;
  readonly truth: Omit<GroundTruth, 'format'>;
}

/** Largest sample machine: 256 GiB of RAM (structures land all over it, so the top is populated too). */
export const MAX_SIZE_MIB = 256 * 1024;

/**
 * The sample machine in memory, stage by stage: layout (memory map, System's PML4, kernel slots),
 * kernel image and object types, processes (pool objects, page tables, sessions, handle tables,
 * bodies, lists), decoys, kernel paging extras, then the ground truth. Every stage draws from the
 * one seeded PRNG in this order, so the same options give the same bytes.
 */
export function buildImage(profile: Profile, buildNumber: number, version: string, opts: ImageOptions): SampleImage {
  if (!Number.isInteger(opts.sizeMiB) || opts.sizeMiB < 64 || opts.sizeMiB > MAX_SIZE_MIB) {
    throw usageError(`--size must be an integer number of MiB between 64 and ${MAX_SIZE_MIB} (got ${opts.sizeMiB})`);
  }
  if (!Number.isInteger(opts.processes) || opts.processes < 0 || opts.processes > 2000) {
    throw usageError(`--processes must be between 0 and 2000 (got ${opts.processes})`);
  }
  const rng = new Prng(opts.seed);
  const win10 = buildNumber >= 10240;
  const win8 = buildNumber >= 9200;
  const layout = layOutMachine(rng, opts, win10);
  const { runs, mem, ks, lowStubPa, selfRef, poolSlot, sessionSlot } = layout;
  const kernel = mapKernelImage(profile, rng, mem, ks, buildNumber, opts.kernelBase);
  const { cookie } = kernel;

  // Pool and the object types every object header's TypeIndex names.
  const poolRegion = slotVa(poolSlot) + (BigInt(rng.int(0, 0x3f)) << 33n) + BigInt(rng.int(0, 0xff)) * BigInt(LARGE_PAGE_SIZE);
  const arena = new PoolArena(profile, ks, mem, rng, poolRegion);
  const objects = new ObjectFactory(profile, arena, cookie);
  const procTag = tagValue(win8 ? 'Proc' : 'Pro\u00e3'); // before Windows 8 the protected-pool bit is set
  const threTag = tagValue(win8 ? 'Thre' : 'Thr\u00e5');
  const processTypeKey = writeObjectTypes(profile, objects, kernel, procTag, threTag);

  // Processes: objects, address spaces, sessions, handle tables, bodies, lists.
  const plan = planProcesses(rng, { buildNumber, extraProcesses: opts.processes });
  const infoMasks = processInfoMasks(profile);
  const built = createProcessObjects({ profile, rng, objects, ks, procTag, threTag, infoMasks }, plan.processes);
  const system = built[0]!;
  buildAddressSpaces(profile, rng, mem, ks, selfRef, kernel, buildNumber, built);
  const faults = plantDirBaseFaults(profile, mem, selfRef, buildNumber, built, opts.dirBaseFaults ?? {});
  const sessionVas = createSessionSpaces(profile, rng, mem, ks, sessionSlot);
  const handles = new HandleTableWriter(profile, ks, arena);
  const cid = writeCidTable(handles, built);
  const { objectTables, csrssHolders } = writeProcessHandleTables(handles, rng, built);
  kernel.writeSymbol('PspCidTable', u64(cid.va));
  fillProcessBodies({ profile, rng, arena, kernel, sessionVas, objectTables }, built);
  const reused = plantReusedProcessBlock(profile, rng, objects, procTag, infoMasks);
  arena.flush();
  linkProcessLists(profile, ks, kernel, sessionVas, built);

  // Decoys, the low stub, an unmapped remnant, and the kernel's other pages.
  const decoys = plantDecoys({ profile, rng, mem, ks, objects, procTag, cookie, processTypeKey, reused });
  if (lowStubPa !== null) writeLowStub(rng, mem, ks, kernel, lowStubPa, poolSlot);
  const explorer = built.find((b) => b.p.exe === 'explorer.exe');
  const remnant = plantUnmappedRemnant({
    profile, rng, mem, ks, objects, procTag, processTypeIndex: typeIndexOf('Process'),
    infoMask: rng.pick(infoMasks),
    poolEndVa: arena.pages[arena.pages.length - 1] ?? poolRegion,
    takenIds: new Set(built.flatMap((b) => [b.p.pid, ...b.p.threads.map((t) => t.tid)])),
    ppid: explorer?.p.pid ?? system.p.pid, sessionId: 1, sessionVa: sessionVas.get(1) ?? 0n,
    bootTime: plan.bootTime,
  });
  mapKernelWorkingSet(mem, ks, poolSlot, poolRegion);
  const softwarePtes = plantSoftwarePtes(rng, mem, ks, poolSlot, poolRegion);

  // ---- KUSER_SHARED_DATA (x64: VA 0xfffff78000000000) with the capture time, and KeBootTime. Last, so
  // every earlier random draw (and so every existing seed's layout) is unchanged. ----
  // The image is taken after the last exit, the unmapped remnant's included (it exits up to 20 min after boot).
  const lastExit = remnant.exitTime === null ? 0n : filetimeFromMs(Date.parse(remnant.exitTime) + 60_000);
  const captureTime = plan.captureTime > lastExit ? plan.captureTime : lastExit;
  const kusd = writeSharedUserData(profile, mem, ks, built.map((b) => b.as), selfRef, plan.bootTime, captureTime);
  if (profile.hasSymbol('KeBootTime')) kernel.writeSymbol('KeBootTime', u64(plan.bootTime));

  const eprocSize = profile.sizeOf('_EPROCESS');
  const processes = built.map((b) => truthProcess(ks, b, csrssHolders, eprocSize, faults.get(b)));
  processes.push(remnant);
  return {
    mem,
    truth: {
      build: version,
      buildNumber,
      pdb: { name: profile.pdb.name, guid: profile.pdb.guid, age: profile.pdb.age },
      seed: opts.seed,
      sizeBytes: mem.endAddress,
      runs: runs.map((r) => ({ start: hex(r.start), length: hex(r.length) })),
      kernelBase: hex(kernel.base),
      kernelSize: hex(kernel.sizeOfImage),
      dtb: hex(system.dtb),
      pml4: hex(ks.pml4),
      selfRefIndex: selfRef,
      lowStub: lowStubPa !== null,
      lowStubPa: lowStubPa === null ? null : hex(lowStubPa),
      symbols: kernel.symbolsWritten,
      obHeaderCookie: cookie,
      cidTableLevel: cid.level,
      poolTags: { process: hex(procTag), thread: hex(threTag) },
      processes,
      ...(kusd ? { captureTime: filetimeToIso(captureTime), bootTime: filetimeToIso(plan.bootTime) } : {}),
      decoys,
      kernelSoftwarePtes: softwarePtes,
    },
  };
}
