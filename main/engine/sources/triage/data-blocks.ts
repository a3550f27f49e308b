/**
 * The memory a triage dump holds: its data blocks (TRIAGE_DATA_BLOCK, 16 bytes each on 64-bit:
 * VirtualAddress u64, Offset u32 (file offset of the bytes), Size u32; rizin dmp64_triage_datablock,
 * checked against triage_x64.dmp's 1831 blocks at 0x19438) plus the optional data page
 * (DataPageAddress/Offset/Size). Kernel virtual memory only, no page tables: a few pages around the
 * crash, never the machine's physical memory.
 */
import { formatError } from '../../errors.js';
import { MAX_READ } from '../physical-source.js';
import type { ImageFile } from '../image-file.js';
import { checkRegion, type TriageBounds, type TriageHeader } from './triage-header.js';

const BLOCK_SIZE = 16;
const PAGE_SHIFT = 12n;
const VA_LIMIT = 1n << 64n;

export interface DataBlock {
  readonly virtualAddress: bigint;
  /** File offset of the block's bytes. */
  readonly offset: number;
  readonly size: number;
}

export interface TriageMemory {
  /** The data blocks, then the data page when there is one, in file order. */
  readonly blocks: readonly DataBlock[];
  /** Distinct 4 KiB virtual pages the blocks touch: how much memory the dump really holds. */
  readonly pages: number;
  /** Bytes of memory held (sum of the block sizes). */
  readonly bytes: number;
}

export function readTriageMemory(file: ImageFile, t: TriageHeader, bounds: TriageBounds): TriageMemory {
  const path = file.path;
  const tableBytes = t.dataBlocksCount * BLOCK_SIZE;
  if (tableBytes > MAX_READ) throw formatError(path, `triage dump DataBlocksCount ${t.dataBlocksCount} is absurd (${tableBytes} bytes of block table)`);
  if (t.dataBlocksCount > 0) checkRegion(bounds, 'DataBlocksCount', t.dataBlocksOffset, tableBytes, `${t.dataBlocksCount} data blocks`);
  const table = t.dataBlocksCount > 0 ? file.readAt(t.dataBlocksOffset, tableBytes) : Buffer.alloc(0);
  const blocks: DataBlock[] = [];
  for (let i = 0; i < t.dataBlocksCount; i++) {
    const at = i * BLOCK_SIZE;
    const block = { virtualAddress: table.readBigUInt64LE(at), offset: table.readUInt32LE(at + 8), size: table.readUInt32LE(at + 12) };
    checkBlock(bounds, `data block ${i}`, block);
    blocks.push(block);
  }
  if (t.dataPageOffset !== 0 && t.dataPageSize !== 0) {
    const page = { virtualAddress: t.dataPageAddress, offset: t.dataPageOffset, size: t.dataPageSize };
    checkBlock(bounds, 'data page (DataPageAddress)', page);
    blocks.push(page);
  }
  return { blocks, pages: distinctPages(blocks), bytes: blocks.reduce((n, b) => n + b.size, 0) };
}

function checkBlock(bounds: TriageBounds, what: string, b: DataBlock): void {
  checkRegion(bounds, `${what} Offset/Size`, b.offset, b.size, 'block bytes');
  if (b.virtualAddress + BigInt(b.size) > VA_LIMIT) {
    throw formatError(bounds.path, `triage dump ${what} VirtualAddress 0x${b.virtualAddress.toString(16)} + Size 0x${b.size.toString(16)} wraps past the top of the address space`);
  }
}

/** Count pages by sorted page ranges (blocks may share pages), no per-page allocation. */
function distinctPages(blocks: readonly DataBlock[]): number {
  const ranges = blocks
    .filter((b) => b.size > 0)
    .map((b) => [b.virtualAddress >> PAGE_SHIFT, (b.virtualAddress + BigInt(b.size) - 1n) >> PAGE_SHIFT] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let count = 0n;
  let end = -1n; // last page counted
  for (const [first, last] of ranges) {
    const from = first > end ? first : end + 1n;
    if (last >= from) count += last - from + 1n;
    if (last > end) end = last;
  }
  return Number(count);
}

/** The block holding all `length` bytes at `va`, or null (a read never chains blocks). */
export function blockHolding(blocks: readonly DataBlock[], va: bigint, length: number): DataBlock | null {
  const end = va + BigInt(length);
  for (const b of blocks) if (b.virtualAddress <= va && end <= b.virtualAddress + BigInt(b.size)) return b;
  return null;
}
