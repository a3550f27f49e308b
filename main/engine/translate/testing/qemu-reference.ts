/**
 * Parsers for QEMU monitor text used as the independent reference for x64 translation.
 *
 * `info tlb` (qemu/target/i386/monitor.c, tlb_info_64 + print_pte) walks the guest's 4-level tables
 * from CR3 and prints one line per present leaf: the canonical VA of the page, the entry masked to
 * the page frame (`pte & mask`, so the PA of the page), and the flags X G P D A C T U W
 * (NX, global, PS/PAT bit 7, dirty, accessed, PCD, PWT, user, writable). QEMU prints 1 GiB PDPTEs
 * and 2 MiB PDEs with bit 7 (PS) set, so their line shows 'P'; but bit 7 of a 4 KiB PTE is the PAT
 * bit and prints the same 'P'. The page size is therefore decided from the layout as well:
 * a 'P' leaf is large only if its VA and PA are aligned to that size and no other leaf starts
 * inside it (QEMU prints leaves in ascending VA order, one per page).
 */
import type { PageSize } from '../types.js';

export interface TlbLeaf {
  readonly va: bigint;
  readonly pa: number;
  readonly page: PageSize;
  readonly flags: string;
}

export const PAGE_BYTES: Readonly<Record<PageSize, bigint>> = { '4K': 0x1000n, '2M': 0x200000n, '1G': 0x40000000n };

const LINE = /^([0-9a-f]{16}): ([0-9a-f]{16}) ([X-][G-][P-][D-][A-][C-][T-][U-][W-])$/;

/** Every leaf of an `info tlb` dump, in VA order, with its page size; throws on an unparsable line. */
export function parseInfoTlb(text: string): TlbLeaf[] {
  const raw: { va: bigint; pa: bigint; flags: string }[] = [];
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t === '') continue;
    const m = LINE.exec(t);
    if (!m) throw new Error(`info tlb: unexpected line "${t}"`);
    raw.push({ va: BigInt('0x' + m[1]!), pa: BigInt('0x' + m[2]!), flags: m[3]! });
  }
  const leaves: TlbLeaf[] = [];
  for (let i = 0; i < raw.length; i++) {
    const r = raw[i]!;
    const next = raw[i + 1]?.va;
    let page: PageSize = '4K';
    if (r.flags[2] === 'P') {
      for (const size of ['1G', '2M'] as const) {
        const n = PAGE_BYTES[size];
        if (r.va % n === 0n && r.pa % n === 0n && (next === undefined || next >= r.va + n)) {
          page = size;
          break;
        }
      }
    }
    leaves.push({ va: r.va, pa: Number(r.pa), page, flags: r.flags });
  }
  return leaves;
}

/** CR3 from `info registers` ("CR3=0000000002a0c000"). */
export function parseCr3(infoRegisters: string): bigint {
  const m = /\bCR3=([0-9a-f]+)/i.exec(infoRegisters);
  if (!m) throw new Error('info registers: no CR3= field');
  return BigInt('0x' + m[1]!);
}
