/**
 * Find System's _EPROCESS with no profile: a physical scan for "System" + 9 NULs (the 15-byte
 * ImageFileName slot), then, backwards from each hit, a qword 4 (UniqueProcessId) followed by a
 * LIST_ENTRY of two kernel pointers (ActiveProcessLinks = UniqueProcessId + 8 on every x64 build,
 * see priors.ts). The links must round-trip through the kernel address space — Flink->Blink and
 * Blink->Flink both name this entry, and the entry's kernel VA reads back the same bytes as the
 * physical hit — so a stale copy of a freed EPROCESS (the list moved on) is rejected. The object
 * start is where _KPROCESS begins: DISPATCHER_HEADER.Type == 3 (ProcessObject) and, at
 * DirectoryTableBase (+0x28 in all 213 tables; other qword slots up to +0x78 are tried for an unseen
 * build), a CR3 whose page tables map the kernel image to the same physical bytes.
 */
import type { PhysicalSource } from '../../sources/physical-source.js';
import { asciiHex, bytesScan } from '../../scan/scanners/bytes.js';
import { hex } from '../../util/hex.js';
import { translateVa } from '../discovery/page-walk.js';
import type { PhysicalScanFn } from '../discovery/scan-runner.js';
import { pml4FromDtb } from '../../translate/x64/mmu.js';
import { type KernelRead, isKernelPointer, readU64, u64 } from './memory.js';
import { DTB_PRIOR, observedOffsets } from './priors.js';

export const SYSTEM_NAME_NEEDLE = asciiHex('System') + '00'.repeat(9);
/** ProcessObject in _KOBJECTS: _DISPATCHER_HEADER.Type of every _KPROCESS. */
export const PROCESS_OBJECT_TYPE = 3;
/** How far before ImageFileName UniqueProcessId may lie, and the object start before that. */
const MAX_NAME_DISTANCE = 0x800;
const MIN_PID_OFFSET = 0x40;
const MAX_PID_OFFSET = 0x800;
const MAX_NAME_HITS = 4096;

export interface SystemProcess {
  readonly va: bigint;
  readonly pidOffset: number;
  readonly imageFileNameOffset: number;
  readonly dtbOffset: number;
  readonly dtbRaw: bigint;
  readonly namePa: number;
  readonly evidence: readonly string[];
}

export interface FindSystemResult {
  readonly system: SystemProcess | null;
  readonly nameHits: number;
  /** Why each rejected hit was rejected (first few). */
  readonly rejected: readonly string[];
}

/** Does this CR3 map the kernel image base to the bytes the kernel address space reads there? */
export function mapsKernel(source: PhysicalSource, read: KernelRead, kernelBase: bigint, dtbRaw: bigint): boolean {
  const pml4 = pml4FromDtb(dtbRaw);
  if (pml4 === 0 || pml4 >= source.size) return false;
  const pa = translateVa(source, pml4, kernelBase);
  if (pa === null || pa + 64 > source.size) return false;
  const mine = source.read(pa, 64);
  const theirs = read(kernelBase, 64);
  if (mine.absent.length || !theirs) return false;
  return Buffer.compare(Buffer.from(mine.data), Buffer.from(theirs)) === 0;
}

export async function findSystemProcess(
  source: PhysicalSource, read: KernelRead, kernelBase: bigint, scan: PhysicalScanFn, signal?: AbortSignal,
): Promise<FindSystemResult> {
  const rejected: string[] = [];
  let nameHits = 0;
  const reject = (why: string) => { if (rejected.length < 8) rejected.push(why); };
  for await (const ev of scan(bytesScan({ needles: [SYSTEM_NAME_NEEDLE] }), { signal })) {
    if (ev.type !== 'hit') continue;
    if (++nameHits > MAX_NAME_HITS) break;
    const h = ev.hit.pa;
    const r = tryHit(source, read, kernelBase, h);
    if (typeof r === 'string') reject(`"System" at PA ${hex(h)}: ${r}`);
    else return { system: r, nameHits, rejected };
  }
  return { system: null, nameHits, rejected };
}

function tryHit(source: PhysicalSource, read: KernelRead, kernelBase: bigint, h: number): SystemProcess | string {
  const lo = Math.max(0, (h - MAX_NAME_DISTANCE) & ~7);
  const win = source.read(lo, h - lo + 24);
  const bytes = win.data;
  let why = 'no UniqueProcessId 4 followed by a kernel LIST_ENTRY before it';
  for (let p = (h & ~7) - 24; p >= lo; p -= 8) {
    const i = p - lo;
    if (i + 24 > bytes.length || u64(bytes, i) !== 4n) continue;
    const flink = u64(bytes, i + 8);
    const blink = u64(bytes, i + 16);
    if (!isKernelPointer(flink) || !isKernelPointer(blink)) continue;
    // Round trip through kernel VA: the next entry's Blink names us; our Blink's Flink names us.
    const self = readU64(read, flink + 8n);
    if (self === null) { why = `ActiveProcessLinks.Flink ${hex(flink)} does not translate`; continue; }
    if (readU64(read, blink) !== self) { why = `Blink->Flink does not return to ${hex(self)} (links do not round-trip)`; continue; }
    const back = read(self - 8n, 24);
    if (!back || Buffer.compare(Buffer.from(back), Buffer.from(bytes.subarray(i, i + 24))) !== 0) {
      why = `list entry ${hex(self)} does not read back as this physical copy (stale copy)`;
      continue;
    }
    const pidVa = self - 8n;
    const nameVa = pidVa + BigInt(h - p);
    const name = read(nameVa, 15);
    if (!name || Buffer.from(name).toString('latin1') !== 'System' + '\0'.repeat(9)) { why = 'name not at the same distance in kernel VA'; continue; }
    const start = objectStart(source, read, kernelBase, pidVa);
    if (typeof start === 'string') { why = start; continue; }
    return {
      va: pidVa - BigInt(start.pidOffset),
      pidOffset: start.pidOffset,
      imageFileNameOffset: start.pidOffset + (h - p),
      dtbOffset: start.dtbOffset,
      dtbRaw: start.dtbRaw,
      namePa: h,
      evidence: [
        `"System" at PA ${hex(h)}; UniqueProcessId 4 at ${hex(pidVa)} followed by ActiveProcessLinks whose Flink->Blink and Blink->Flink return to it`,
        `object starts at ${hex(pidVa - BigInt(start.pidOffset))}: DISPATCHER_HEADER.Type 3, DirectoryTableBase ${hex(start.dtbRaw)} at +0x${start.dtbOffset.toString(16)} maps ntoskrnl`,
      ],
    };
  }
  return why;
}

/** Candidate UniqueProcessId offsets: the observed ones first, then every 8-aligned one. */
function pidOffsetOrder(): number[] {
  const seen = observedOffsets('UniqueProcessId');
  const rest: number[] = [];
  for (let o = MIN_PID_OFFSET; o <= MAX_PID_OFFSET; o += 8) if (!seen.includes(o)) rest.push(o);
  return [...seen, ...rest];
}

function objectStart(source: PhysicalSource, read: KernelRead, kernelBase: bigint, pidVa: bigint):
  { pidOffset: number; dtbOffset: number; dtbRaw: bigint } | string {
  const dtbOrder = [DTB_PRIOR];
  for (let o = 0x10; o <= 0x78; o += 8) if (o !== DTB_PRIOR) dtbOrder.push(o);
  for (const pidOffset of pidOffsetOrder()) {
    const base = pidVa - BigInt(pidOffset);
    if ((base & 0xfn) !== 0n) continue; // pool blocks and object bodies are 16-byte aligned on x64
    const head = read(base, 0x80);
    if (!head || head[0] !== PROCESS_OBJECT_TYPE) continue;
    for (const dtbOffset of dtbOrder) {
      const v = u64(head, dtbOffset);
      if (v !== 0n && mapsKernel(source, read, kernelBase, v)) return { pidOffset, dtbOffset, dtbRaw: v };
    }
  }
  return 'no object start (Type 3 with a DirectoryTableBase that maps the kernel) before UniqueProcessId';
}
