/**
 * Self-referencing PML4 scanner (DTB discovery method (c)). Windows maps its page tables through one
 * PML4 entry that points back at the PML4 page itself; since Windows 10 1607 the index is randomised
 * within the kernel half (0x100..0x1FF). A page is a candidate when some entry in that window is
 * its self-reference by the one rule (translate/x64/kernel-half.ts: present, writable, PS clear, its
 * frame the page's own). Cheap sanity then rejects pages that merely look like that: at least
 * `minKernelEntries` present entries in the kernel half, no present entry with the PS bit (bit 7 is
 * reserved in a PML4E) and, when `maxPhysicalAddress` is known, no present entry pointing beyond it.
 *
 * Speed: an Int32Array over the window, the low dwords of four entries compared per step, no
 * bigint per qword; the exact test (both dwords) only from the first entry that passes.
 */
import { usageError } from '../../errors.js';
import type { Emit, ScanHit, Scanner, ScannerSpec } from '../types.js';
import { isSelfReference, KERNEL_HALF_PML4 } from '../../translate/x64/kernel-half.js';
import { joinEntry } from '../../translate/x64/mmu.js';
import { optionalInt, paramsObject } from './util.js';

const PAGE = 4096;
const ENTRIES = 512;
const TWO32 = 0x1_0000_0000;

export interface Pml4SelfRefParams {
  /** Highest physical address + 1 (source.size); entries pointing at or above it are insane. */
  readonly maxPhysicalAddress?: number;
  /** Present entries required in the kernel half, self-reference included; default 3. */
  readonly minKernelEntries?: number;
  /** Index window searched for the self-reference; default the kernel half, 0x100..0x1ff. */
  readonly firstIndex?: number;
  readonly lastIndex?: number;
}

export interface Pml4SelfRefHit extends ScanHit {
  /** Physical address of the PML4 page (the DTB candidate). */
  readonly pa: number;
  /** Index of the self-referencing entry. */
  readonly index: number;
  /** The entry as found (NX and software bits kept). */
  readonly entry: bigint;
  readonly kernelPresent: number;
  readonly userPresent: number;
}

export const pml4SelfRefScan = (params: Pml4SelfRefParams = {}): ScannerSpec<Pml4SelfRefHit> => ({ kind: 'pml4-selfref', params });

if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error('pml4-selfref scanner assumes a little-endian host');

/** A Uint32Array over the chunk; copies only if the chunk is not 4-byte aligned in its buffer. */
function u32view(chunk: Uint8Array): Uint32Array {
  const whole = chunk.length - (chunk.length % 4);
  if (chunk.byteOffset % 4 === 0) return new Uint32Array(chunk.buffer, chunk.byteOffset, whole / 4);
  return new Uint32Array(chunk.slice(0, whole).buffer);
}

export function createScanner(params: unknown): Scanner<Pml4SelfRefHit> {
  const p = paramsObject('pml4-selfref', params);
  const maxPa = optionalInt('pml4-selfref', p, 'maxPhysicalAddress', 0, 1, 2 ** 52);
  const minKernel = optionalInt('pml4-selfref', p, 'minKernelEntries', 3, 1, 256);
  const first = optionalInt('pml4-selfref', p, 'firstIndex', KERNEL_HALF_PML4.first, 0, 511);
  const last = optionalInt('pml4-selfref', p, 'lastIndex', KERNEL_HALF_PML4.last, 0, 511);
  if (last < first) throw usageError(`scanner 'pml4-selfref': lastIndex ${last} < firstIndex ${first}`);

  /** Sanity of a candidate page (rare, so clarity over speed). */
  function sane(u32: Uint32Array, base: number): { kernel: number; user: number } | null {
    let kernel = 0;
    let user = 0;
    for (let i = 0; i < ENTRIES; i++) {
      const lo = u32[base + 2 * i]!;
      if ((lo & 1) === 0) continue;
      if (lo & 0x80) return null; // PS is reserved in a PML4E
      const hi = u32[base + 2 * i + 1]!;
      const target = (hi & 0xfffff) * TWO32 + ((lo & 0xfffff000) >>> 0);
      if (maxPa !== 0 && target >= maxPa) return null;
      if (i >= KERNEL_HALF_PML4.first) kernel++;
      else user++;
    }
    return kernel >= minKernel ? { kernel, user } : null;
  }

  /**
   * The self-reference test on one entry (dwords `lo`, `hi`) of the page at `pa` (= paHi:paLo): a
   * cheap necessary condition on the dwords (bits 12..51 the page's, P and R/W set), then the one
   * rule (translate/x64/kernel-half.ts) on the few entries that pass.
   */
  const selfRef = (lo: number, hi: number, pa: number, paLo: number, paHi: number): boolean =>
    ((lo ^ paLo) & 0xfffff003) === 3 && (hi & 0xfffff) === paHi && isSelfReference(joinEntry(lo, hi), pa);

  return {
    overlap: PAGE - 1,
    scan(chunk: Uint8Array, chunkPa: number, emit: Emit<Pml4SelfRefHit>): void {
      const u32 = u32view(chunk);
      // The same words as int32: comparisons stay in 32-bit integers (a Uint32 above 2^31 is a
      // double to the JIT; measured 2x slower for this walk).
      const i32 = new Int32Array(u32.buffer, u32.byteOffset, u32.length);
      let off = (PAGE - (chunkPa % PAGE)) % PAGE;
      for (; off + PAGE <= chunk.length; off += PAGE) {
        const pa = chunkPa + off;
        const paLo = pa >>> 0; // low 32 bits; low 12 are zero (page aligned)
        const paHi = Math.floor(pa / TWO32) & 0xfffff;
        const want = (paLo | 3) & 0xfffff003; // int32, as (i32[..] & mask) is
        const base = off >>> 2;
        // prefilter four entries at a time on the low dword; the exact test runs in entry order
        let i = first;
        for (; i + 3 <= last; i += 4) {
          const at = base + 2 * i;
          if ((i32[at]! & 0xfffff003) === want || (i32[at + 2]! & 0xfffff003) === want || (i32[at + 4]! & 0xfffff003) === want || (i32[at + 6]! & 0xfffff003) === want) break;
        }
        for (; i <= last; i++) {
          const lo = u32[base + 2 * i]!;
          if (!selfRef(lo, u32[base + 2 * i + 1]!, pa, paLo, paHi)) continue;
          const s = sane(u32, base);
          if (s) emit({ pa, index: i, entry: (BigInt(u32[base + 2 * i + 1]!) << 32n) | BigInt(lo), kernelPresent: s.kernel, userPresent: s.user });
          break;
        }
      }
    },
  };
}
