import type { Profile } from '../profile/profile.js';
import type { AddressSpace } from './paging.js';
import { PAGE_SIZE, type SparsePhysicalMemory } from './physmem.js';
import type { Prng } from './prng.js';
import { StructBuf } from './struct-buf.js';

/**
 * Kernel small-pool model: 4 KiB pool pages at consecutive kernel VAs, each backed by a random
 * physical frame, carved into blocks that each start with a _POOL_HEADER (BlockSize and PreviousSize
 * in 16-byte units, PoolType stored as Vista+ does: 0 free, odd paged, even non-paged).
 * Gaps are closed with blocks of ordinary tags so pages tile exactly as the allocator leaves them.
 * A block may be forced across a page boundary (segment-heap VS allocations do that on Windows 10+),
 * its two halves on unrelated physical pages.
 */
export const POOL_GRANULARITY = 16;
export const POOL_TYPE_FREE = 0;
export const POOL_TYPE_NONPAGED = 2;
export const POOL_TYPE_PAGED = 3;

const FILLER_TAGS = ['File', 'Even', 'MmCa', 'Ntfx', 'Vad ', 'Toke', 'Irp ', 'Muta', 'Sema', 'Key ', 'ObNm', 'SeTd', 'Wait', 'CcBc'];

export const tagValue = (tag: string): number => {
  const b = [...tag].map((c) => c.charCodeAt(0) & 0xff);
  return ((b[0] ?? 0) | ((b[1] ?? 0) << 8) | ((b[2] ?? 0) << 16) | ((b[3] ?? 0) << 24)) >>> 0;
};

export interface PoolBlock {
  readonly va: bigint; // VA of the _POOL_HEADER
  readonly bytes: Uint8Array; // the whole block, header included
  readonly straddlesAt: number | null; // offset in block where the next page begins
}

export class PoolArena {
  private pageVa: bigint;
  private used = PAGE_SIZE; // forces a fresh page on first use
  private prevBlockSize = 0;
  readonly blocks: PoolBlock[] = [];
  readonly pages: bigint[] = [];

  constructor(
    private readonly profile: Profile,
    private readonly ks: AddressSpace,
    private readonly mem: SparsePhysicalMemory,
    private readonly rng: Prng,
    regionVa: bigint,
  ) {
    this.pageVa = regionVa - BigInt(PAGE_SIZE);
  }

  /** Map a fresh pool page (a random physical frame) at the next kernel VA. */
  private newPage(contiguous: boolean): void {
    const skip = contiguous ? 1 : this.rng.bool(0.15) ? this.rng.int(2, 16) : 1;
    this.pageVa += BigInt(PAGE_SIZE * skip);
    this.ks.map4k(this.pageVa, this.mem.allocPage(), { writable: true });
    this.pages.push(this.pageVa);
    this.used = 0;
    this.prevBlockSize = 0;
  }

  /** Whole 4 KiB page outside small pool (handle-table pages, session space): no pool header. */
  allocPageVa(): bigint {
    this.newPage(false);
    const va = this.pageVa;
    this.used = PAGE_SIZE;
    return va;
  }

  private header(bytes: Uint8Array, blockSize: number, poolType: number, tag: number): void {
    new StructBuf(this.profile, '_POOL_HEADER', bytes)
      .set('PreviousSize', this.prevBlockSize)
      .set('PoolIndex', 0)
      .set('BlockSize', blockSize)
      .set('PoolType', poolType)
      .set('PoolTag', tag);
  }

  private filler(bytes: number): void {
    if (bytes <= 0) return;
    const buf = new Uint8Array(bytes);
    const type = this.rng.bool(0.2) ? POOL_TYPE_FREE : POOL_TYPE_NONPAGED;
    this.header(buf, bytes / POOL_GRANULARITY, type, tagValue(this.rng.pick(FILLER_TAGS)));
    this.blocks.push({ va: this.pageVa + BigInt(this.used), bytes: buf, straddlesAt: null });
    this.prevBlockSize = bytes / POOL_GRANULARITY;
    this.used += bytes;
  }

  /**
   * Allocate a block for `payload` bytes (after the pool header). `straddleAt`: payload offset that
   * must land at the start of the next page. Returns the block; its bytes are written by flush().
   */
  alloc(payload: number, tag: number, poolType: number, straddleAt?: number): PoolBlock {
    const headerSize = this.profile.sizeOf('_POOL_HEADER');
    const blockBytes = Math.ceil((headerSize + payload) / POOL_GRANULARITY) * POOL_GRANULARITY;
    const blockSize = blockBytes / POOL_GRANULARITY;
    if (blockSize > 0xff) throw new RangeError(`pool block of ${blockBytes} bytes exceeds the small-pool BlockSize field`);
    let at: number;
    if (straddleAt !== undefined) {
      at = Math.floor((PAGE_SIZE - headerSize - straddleAt) / POOL_GRANULARITY) * POOL_GRANULARITY;
      if (at < 0 || at + blockBytes <= PAGE_SIZE) throw new RangeError('straddle offset does not cross the page');
      if (this.used > at) {
        this.filler(PAGE_SIZE - this.used);
        this.newPage(false);
      }
    } else {
      if (this.used + blockBytes > PAGE_SIZE) {
        this.filler(PAGE_SIZE - this.used);
        this.newPage(false);
      }
      // Occasionally leave another allocation in between, as a busy pool does.
      const gap = this.rng.bool(0.3) ? this.rng.int(2, 12) * POOL_GRANULARITY : 0;
      at = this.used + gap <= PAGE_SIZE - blockBytes ? this.used + gap : this.used;
    }
    this.filler(at - this.used);
    const bytes = new Uint8Array(blockBytes);
    this.header(bytes, blockSize, poolType, tag);
    const va = this.pageVa + BigInt(at);
    const crosses = at + blockBytes > PAGE_SIZE;
    const block: PoolBlock = { va, bytes, straddlesAt: crosses ? PAGE_SIZE - at : null };
    this.blocks.push(block);
    this.prevBlockSize = blockSize;
    if (crosses) {
      this.newPage(true); // virtually contiguous, physically unrelated
      this.used = at + blockBytes - PAGE_SIZE;
      this.prevBlockSize = 0;
    } else {
      this.used = at + blockBytes;
    }
    return block;
  }

  /** Close the last page and write every block through the kernel page tables. */
  flush(): void {
    if (this.used < PAGE_SIZE && this.pages.length > 0) this.filler(PAGE_SIZE - this.used);
    this.used = PAGE_SIZE;
    for (const b of this.blocks) this.ks.write(b.va, b.bytes);
  }
}
