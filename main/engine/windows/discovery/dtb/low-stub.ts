/**
 * DTB method (b): the low stub. On x64 Windows the boot processor leaves a PROCESSOR_START_BLOCK
 * (the real-mode trampoline secondary processors start in) in a page below 1 MiB. Its first qword is
 * a `jmp` over the block (E9 xx 00 06 00 01 00 00 → masked 0x00000001000600E9), its LmTarget (the
 * 64-bit kernel entry, a VA in ntoskrnl) sits at +0x70 and ProcessorState.SpecialRegisters.Cr3 at
 * +0xA0. These are the checks MemProcFS applies (ufrisk/MemProcFS vmm/vmmwininit.c,
 * VmmWinInit_DTB_FindValidate_X64_LowStub): start bytes, `entry & 0xfffff80000000003 ==
 * 0xfffff80000000000`, and `cr3 & 0xffffff0000000fff == 0` (page aligned, below 1 TiB). Page 0 is
 * skipped (real mode IVT) as there.
 */
import type { PhysicalSource } from '../../../sources/physical-source.js';
import { hex } from '../../../util/hex.js';
import { type DtbCandidate, throwIfAborted } from '../types.js';
import { pml4FromDtb } from '../../../translate/x64/mmu.js';

export const LOW_STUB_LIMIT = 0x10_0000;
const START_MASK = 0xffff_ffff_ffff_00ffn;
const START_BYTES = 0x0000_0001_0006_00e9n;
const ENTRY_OFFSET = 0x70;
const CR3_OFFSET = 0xa0;

export async function* lowStub(source: PhysicalSource, signal?: AbortSignal): AsyncGenerator<DtbCandidate> {
  throwIfAborted(signal);
  const limit = Math.min(LOW_STUB_LIMIT, source.size);
  if (limit < 0x2000) return;
  const { data } = source.read(0, limit); // absent bytes read as zero: they cannot match
  const dv = new DataView(data.buffer, data.byteOffset, data.length);
  for (let o = 0x1000; o + 0x1000 <= limit; o += 0x1000) {
    const first = dv.getBigUint64(o, true);
    if ((first & START_MASK) !== START_BYTES) continue;
    const entry = dv.getBigUint64(o + ENTRY_OFFSET, true);
    if ((entry & 0xffff_f800_0000_0003n) !== 0xffff_f800_0000_0000n) continue;
    const cr3 = dv.getBigUint64(o + CR3_OFFSET, true);
    if (cr3 === 0n || (cr3 & 0xffff_ff00_0000_0fffn) !== 0n) continue;
    yield {
      dtbRaw: cr3,
      pml4: pml4FromDtb(cr3),
      method: 'low-stub',
      evidence: [
        `PROCESSOR_START_BLOCK at ${hex(o)} (first qword ${hex(first)})`,
        `LmTarget (kernel entry) ${hex(entry)} at +0x70`,
        `Cr3 ${hex(cr3)} at +0xa0`,
      ],
      score: 90,
      kernelHintVa: entry,
    };
  }
}
