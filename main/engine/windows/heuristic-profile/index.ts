/**
 * Heuristic kernel profile: when no bundled, cached or downloaded profile matches the kernel's PDB
 * GUID/age, derive the offsets the process plugins need from memory itself, starting from System
 * (PID 4, name "System", list links that round-trip) and cross-checking every field on the other
 * processes of the active list. The result is a ProfileData marked `heuristic` with a confidence
 * and per-field evidence, and discovery reports profileSource "heuristic" — never silently.
 *
 * Limits (said, not hidden): x64 only; System's EPROCESS must be physically contiguous around its
 * name (a non-paged pool block); _EPROCESS's size is not knowable and is recorded as the end of the
 * highest derived field; user-mode ABI offsets (_PEB.ProcessParameters …) are the constants shared by
 * all 213 known builds (priors.ts), not derived.
 */
import { analysisError } from '../../errors.js';
import type { PdbIdentity, ProfileData, StructDef, TypeRef } from '../../profile/model.js';
import { Profile } from '../../profile/profile.js';
import type { PhysicalSource } from '../../sources/physical-source.js';
import { asciiHex, bytesScan } from '../../scan/scanners/bytes.js';
import { hex } from '../../util/hex.js';
import { parsePe } from '../discovery/pe.js';
import type { HeuristicProvider } from '../discovery/profile-resolve.js';
import { inProcessScan, type PhysicalScanFn } from '../discovery/scan-runner.js';
import { type DerivedFields, deriveFields, type ListedProcess } from './fields.js';
import { findSystemProcess, mapsKernel, PROCESS_OBJECT_TYPE, type SystemProcess } from './find-system.js';
import { type KernelRead, printableName, readU64, readWindow, u64 } from './memory.js';
import { ABI, type DerivedField, type LayoutFamily } from './priors.js';

export { kernelReadOf, type KernelRead } from './memory.js';
export { LAYOUT_FAMILIES } from './priors.js';

export interface HeuristicInput {
  readonly source: PhysicalSource;
  readonly kernelBase: bigint;
  /** Kernel VA reads through the discovered DTB. */
  readonly readKernel: KernelRead;
  /** From the kernel PE's RSDS record, when known. */
  readonly pdb?: PdbIdentity;
  readonly buildNumber?: number | null;
  /** How to scan physical memory (default: in this thread). */
  readonly scan?: PhysicalScanFn;
  readonly signal?: AbortSignal;
  /** The layout families the derivation may use (default: all known builds'); tests withhold one. */
  readonly families?: readonly LayoutFamily[];
}

export interface HeuristicResult {
  readonly profile: ProfileData;
  readonly confidence: number;
  readonly evidence: Readonly<Record<string, string>>;
  readonly systemVa: bigint;
  /** EPROCESS VAs on the active list, System first. */
  readonly processes: readonly bigint[];
  readonly family: string | null;
}

/** Bytes of each EPROCESS searched for fields (every known _EPROCESS is ≤ 0xbc0 bytes). */
const WINDOW = 0xc00;
const MAX_LIST = 8192;

export async function deriveHeuristicProfile(input: HeuristicInput): Promise<HeuristicResult> {
  const { source, kernelBase, readKernel: read } = input;
  const where = `heuristic profile (${source.name})`;
  const pe = parsePe((rva, len) => read(kernelBase + BigInt(rva), len));
  const imageSize = pe.ok ? pe.pe.sizeOfImage : null;
  const pdb = input.pdb ?? (pe.ok ? pe.pe.pdb : null) ?? { name: 'ntkrnlmp.pdb', guid: '0'.repeat(32), age: 0 };

  const found = await findSystemProcess(source, read, kernelBase, input.scan ?? inProcessScan(source), input.signal);
  if (!found.system) {
    throw analysisError(where, found.nameHits === 0
      ? 'no System process: no "System" ImageFileName anywhere in physical memory'
      : `no System process: ${found.nameHits} "System" name(s) found, none is a live EPROCESS (${found.rejected.slice(0, 3).join('; ')})`);
  }
  const sys = found.system;
  const aplOff = sys.pidOffset + 8;

  // Walk ActiveProcessLinks from System; the one entry inside ntoskrnl is PsActiveProcessHead.
  const { procs, head, warnings } = walk(source, read, kernelBase, imageSize, sys, aplOff);
  if (procs.length < 2) throw analysisError(where, `System at ${hex(sys.va)} is the only process on its list: nothing to cross-check offsets with`);

  const offList = await poolProcesses(source, input.scan ?? inProcessScan(source), sys, new Set(procs.map((p) => p.pid)), input.signal);
  let derived: DerivedFields;
  try {
    derived = deriveFields(procs, read, { pidOffset: sys.pidOffset, imageFileNameOffset: sys.imageFileNameOffset, dtbOffset: sys.dtbOffset }, WINDOW, input.buildNumber ?? null, offList, input.families);
  } catch (e) {
    throw analysisError(where, `cannot derive _EPROCESS: ${(e as Error).message}`);
  }

  const dtbOk = procs.filter((p) => mapsKernel(source, read, kernelBase, u64(p.bytes, sys.dtbOffset))).length;
  const evidence: Record<string, string> = {
    System: sys.evidence.join('; '),
    '_KPROCESS.DirectoryTableBase': `0x${sys.dtbOffset.toString(16)}: a CR3 that maps ntoskrnl on ${dtbOk}/${procs.length} listed processes${sys.dtbOffset === 0x28 ? ' (the +0x28 of all 213 known builds)' : ' (unseen offset)'}`,
  };
  for (const [f, c] of Object.entries(derived.fields)) evidence[`_EPROCESS.${f}`] = `${c.evidence} [confidence ${c.confidence.toFixed(2)}]`;
  const symbols: Record<string, number> = {};
  if (head !== null) {
    symbols.PsActiveProcessHead = Number(head - kernelBase);
    evidence.PsActiveProcessHead = `${hex(head)} (RVA ${hex(head - kernelBase)}): the list entry inside ntoskrnl${imageSize ? ` (SizeOfImage ${hex(imageSize)})` : ''}`;
  } else {
    warnings.push('PsActiveProcessHead not found: no list entry lies inside ntoskrnl');
  }
  const initial = imageSize ? findPointerInImage(read, kernelBase, imageSize, sys.va) : null;
  if (initial !== null) {
    symbols.PsInitialSystemProcess = initial;
    evidence.PsInitialSystemProcess = `RVA ${hex(initial)}: the only qword in ntoskrnl holding System's EPROCESS address`;
  }
  if (warnings.length) evidence.warnings = warnings.join('; ');

  const dtbConf = dtbOk >= Math.min(3, procs.length) ? 1 : 0.6;
  const core = Math.min(dtbConf, ...(['UniqueProcessId', 'ActiveProcessLinks', 'ImageFileName'] as DerivedField[]).map((f) => derived.fields[f].confidence));
  const restF = (['InheritedFromUniqueProcessId', 'CreateTime', 'ExitTime', 'Peb', 'ObjectTable', 'ActiveThreads'] as DerivedField[]).map((f) => derived.fields[f].confidence);
  const mean = restF.reduce((a, b) => a + b, 0) / restF.length;
  // Core offsets gate everything (a wrong link offset lists garbage); the rest lower it gradually.
  const confidence = Math.round(core * (0.5 + 0.5 * mean) * (head === null ? 0.7 : 1) * 100) / 100;
  evidence.confidence = `${confidence}: min(core offsets) ${core.toFixed(2)} × (0.5 + 0.5 × mean of the other six ${mean.toFixed(2)})${head === null ? ' × 0.7 (no list head)' : ''}`;

  const profile = buildProfileData(pdb, sys, derived, symbols, { confidence, evidence });
  return { profile, confidence, evidence, systemVa: sys.va, processes: procs.map((p) => p.va), family: derived.family?.label ?? null };
}

function walk(source: PhysicalSource, read: KernelRead, kernelBase: bigint, imageSize: number | null, sys: SystemProcess, aplOff: number):
  { procs: ListedProcess[]; head: bigint | null; warnings: string[] } {
  const warnings: string[] = [];
  const start = sys.va + BigInt(aplOff);
  const inImage = (va: bigint) => imageSize !== null && va >= kernelBase && va < kernelBase + BigInt(imageSize);
  const procs: ListedProcess[] = [{ va: sys.va, bytes: readWindow(read, sys.va, WINDOW), pid: 4 }];
  let head: bigint | null = null;
  const seen = new Set<bigint>([start]);
  let prev = start;
  let cur = readU64(read, start);
  for (let i = 0; cur !== null && cur !== start && i < MAX_LIST; i++) {
    if (seen.has(cur)) { warnings.push(`list loops back to ${hex(cur)} without returning to System`); break; }
    seen.add(cur);
    if (readU64(read, cur + 8n) !== prev) { warnings.push(`list entry ${hex(cur)}: Blink does not point back (walk stopped)`); break; }
    if (inImage(cur)) {
      head = cur;
    } else {
      const va = cur - BigInt(aplOff);
      const bytes = readWindow(read, va, WINDOW);
      const pid = bytes.length >= aplOff ? u64(bytes, aplOff - 8) : -1n;
      if (bytes.length < aplOff + 16 || bytes[0] !== PROCESS_OBJECT_TYPE || pid <= 0n || pid % 4n !== 0n || pid >= 1n << 24n) {
        if (imageSize === null && head === null) head = cur; // no PE size known: the non-process entry is the head
        else warnings.push(`list entry ${hex(cur)} is not an EPROCESS (Type ${bytes[0] ?? '?'}, PID ${pid}): skipped`);
      } else {
        procs.push({ va, bytes, pid: Number(pid) });
      }
    }
    prev = cur;
    cur = readU64(read, cur);
  }
  if (cur === null) warnings.push(`list entry after ${hex(prev)} does not translate (walk stopped)`);
  void source;
  return { procs, head, warnings };
}

/** POOL_HEADER.PoolTag of process objects: 'Proc' (Windows 8+), 'Pro\xe3' (Windows 7 sets the protected bit 31). */
const PROC_TAGS = [asciiHex('Proc'), asciiHex('Pro') + 'e3'];
const MAX_POOL_HITS = 65536;

/**
 * EPROCESS bodies not on the active list (exited, unlinked), found physically by their pool tag and
 * recognised with the layout derived so far (Type 3, a PID not listed, a printable name, a non-zero
 * DirectoryTableBase). Only ExitTime uses them: an exited process is where that field is non-zero.
 * Read physically, so a body straddling two unrelated pages is simply not recognised.
 */
async function poolProcesses(source: PhysicalSource, scan: PhysicalScanFn, sys: SystemProcess, listed: Set<number>, signal?: AbortSignal): Promise<ListedProcess[]> {
  const out: ListedProcess[] = [];
  let hits = 0;
  for await (const ev of scan(bytesScan({ needles: PROC_TAGS, align: 16, offset: 4 }), { signal })) {
    if (ev.type !== 'hit' || ++hits > MAX_POOL_HITS) continue;
    const pool = ev.hit.pa - 4;
    // body after POOL_HEADER (0x10), optional object headers and _OBJECT_HEADER (0x30): within 0x200
    for (let base = pool + 0x40; base <= pool + 0x200; base += 16) {
      const r = source.read(base, Math.min(WINDOW, source.size - base));
      if (r.absent.length || r.data.length < sys.imageFileNameOffset + 15 || r.data[0] !== PROCESS_OBJECT_TYPE) continue;
      const pid = u64(r.data, sys.pidOffset);
      if (pid === 0n || pid % 4n !== 0n || pid >= 1n << 24n || listed.has(Number(pid))) continue;
      if (printableName(r.data, sys.imageFileNameOffset) === null || u64(r.data, sys.dtbOffset) === 0n) continue;
      out.push({ va: 0n, bytes: r.data, pid: Number(pid) });
      break;
    }
  }
  return out;
}

/** RVA of the unique 8-aligned qword in the image equal to `value`, else null. */
function findPointerInImage(read: KernelRead, base: bigint, size: number, value: bigint): number | null {
  const CHUNK = 0x10000;
  let found: number | null = null;
  for (let off = 0; off < size; off += CHUNK) {
    const b = readWindow(read, base + BigInt(off), Math.min(CHUNK, size - off));
    const n = b.length & ~7;
    const dv = new DataView(b.buffer, b.byteOffset, n);
    for (let i = 0; i < n; i += 8) {
      if (dv.getBigUint64(i, true) !== value) continue;
      if (found !== null) return null;
      found = off + i;
    }
  }
  return found;
}

const base = (name: string): TypeRef => ({ kind: 'base', name });
const struct = (name: string): TypeRef => ({ kind: 'struct', name });
const ptr = (t: TypeRef): TypeRef => ({ kind: 'pointer', subtype: t });

function buildProfileData(pdb: PdbIdentity, sys: SystemProcess, d: DerivedFields, symbols: Record<string, number>, heuristic: ProfileData['heuristic']): ProfileData {
  const f = d.fields;
  const types: Record<DerivedField, TypeRef> = {
    UniqueProcessId: ptr(base('void')),
    ActiveProcessLinks: struct('_LIST_ENTRY'),
    ImageFileName: { kind: 'array', count: 15, subtype: base('unsigned char') },
    InheritedFromUniqueProcessId: ptr(base('void')),
    CreateTime: struct('_LARGE_INTEGER'),
    ExitTime: struct('_LARGE_INTEGER'),
    Peb: ptr(struct('_PEB')),
    ObjectTable: ptr(struct('_HANDLE_TABLE')),
    ActiveThreads: base('unsigned long'),
  };
  const sizes: Record<DerivedField, number> = { UniqueProcessId: 8, ActiveProcessLinks: 16, ImageFileName: 15, InheritedFromUniqueProcessId: 8, CreateTime: 8, ExitTime: 8, Peb: 8, ObjectTable: 8, ActiveThreads: 4 };
  const eFields: Record<string, { offset: number; type: TypeRef }> = { Pcb: { offset: 0, type: struct('_KPROCESS') } };
  let end = sys.dtbOffset + 8;
  for (const k of Object.keys(types) as DerivedField[]) {
    eFields[k] = { offset: f[k].offset, type: types[k] };
    end = Math.max(end, f[k].offset + sizes[k]);
  }
  const ht: Record<string, { offset: number; type: TypeRef }> = {};
  if (d.handleTable.quotaProcess !== null) ht.QuotaProcess = { offset: d.handleTable.quotaProcess, type: ptr(struct('_EPROCESS')) };
  if (d.handleTable.uniqueProcessId !== null) ht.UniqueProcessId = { offset: d.handleTable.uniqueProcessId, type: ptr(base('void')) };
  const htEnd = Math.max(8, ...Object.values(ht).map((x) => x.offset + 8));
  const s = (kind: 'struct' | 'union', size: number, fields: StructDef['fields']): StructDef => ({ kind, size, fields });
  return {
    pdb,
    pointerSize: 8,
    baseTypes: {
      void: { size: 0, signed: false, kind: 'void' },
      char: { size: 1, signed: true, kind: 'char' },
      'unsigned char': { size: 1, signed: false, kind: 'char' },
      'unsigned short': { size: 2, signed: false, kind: 'int' },
      'wchar': { size: 2, signed: false, kind: 'char' },
      long: { size: 4, signed: true, kind: 'int' },
      'unsigned long': { size: 4, signed: false, kind: 'int' },
      'long long': { size: 8, signed: true, kind: 'int' },
      'unsigned long long': { size: 8, signed: false, kind: 'int' },
      pointer: { size: 8, signed: false, kind: 'int' },
    },
    types: {
      // Size unknowable from memory: recorded as the end of the highest derived field, 8-aligned.
      _EPROCESS: s('struct', (end + 7) & ~7, eFields),
      _KPROCESS: s('struct', sys.dtbOffset + 8, { DirectoryTableBase: { offset: sys.dtbOffset, type: base('unsigned long long') } }),
      _LIST_ENTRY: s('struct', 16, { Flink: { offset: 0, type: ptr(struct('_LIST_ENTRY')) }, Blink: { offset: 8, type: ptr(struct('_LIST_ENTRY')) } }),
      _LARGE_INTEGER: s('union', 8, { QuadPart: { offset: 0, type: base('long long') } }),
      _HANDLE_TABLE: s('struct', htEnd, ht),
      _UNICODE_STRING: s('struct', 16, {
        Length: { offset: 0, type: base('unsigned short') }, MaximumLength: { offset: 2, type: base('unsigned short') },
        Buffer: { offset: 8, type: ptr(base('wchar')) },
      }),
      _PEB: s('struct', ABI.pebProcessParameters + 8, { ProcessParameters: { offset: ABI.pebProcessParameters, type: ptr(struct('_RTL_USER_PROCESS_PARAMETERS')) } }),
      _RTL_USER_PROCESS_PARAMETERS: s('struct', ABI.paramsCommandLine + 16, {
        ImagePathName: { offset: ABI.paramsImagePathName, type: struct('_UNICODE_STRING') },
        CommandLine: { offset: ABI.paramsCommandLine, type: struct('_UNICODE_STRING') },
      }),
    },
    enums: {},
    symbols,
    ...(heuristic ? { heuristic } : {}),
  };
}

export interface HeuristicProviderOptions {
  readonly scan?: PhysicalScanFn;
  /** Below this the derivation is reported as a failure (with its evidence), not used. Default 0.4. */
  readonly minConfidence?: number;
  readonly buildNumber?: number | null;
  /** Called with the full result (the CLI prints confidence and evidence). */
  readonly onResult?: (r: HeuristicResult) => void;
}

/** The discovery hook (profile-resolve.ts HeuristicProvider) over an open source. */
export function heuristicProfileProvider(source: PhysicalSource, opts: HeuristicProviderOptions = {}): HeuristicProvider {
  return async (ctx) => {
    const r = await deriveHeuristicProfile({
      source, kernelBase: ctx.kernelBase, readKernel: ctx.readKernel, pdb: ctx.pdb,
      buildNumber: opts.buildNumber ?? null, ...(opts.scan ? { scan: opts.scan } : {}), ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    const min = opts.minConfidence ?? 0.4;
    if (r.confidence < min) {
      const weak = Object.entries(r.evidence).filter(([, v]) => /UNCONFIRMED|GUESS/.test(v)).map(([k]) => k);
      throw analysisError(`heuristic profile (${source.name})`, `confidence ${r.confidence} is below ${min}${weak.length ? `; unconfirmed: ${weak.join(', ')}` : ''}`);
    }
    opts.onResult?.(r);
    return new Profile(r.profile);
  };
}
