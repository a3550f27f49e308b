/**
 * Pool-tag scanner (psscan's `Proc`, thrdscan's `Thre`, …). On x64 every pool block starts with a
 * 16-byte _POOL_HEADER on a 16-byte boundary (the pool granularity); its ULONG PoolTag is at +4,
 * after PreviousSize/PoolIndex/BlockSize/PoolType (one byte each). So a hit is a tag at an address
 * ≡ 4 (mod 16). Windows sets bit 31 of a protected tag (e.g. `Pro\xe3` on Windows 7): callers that
 * want it pass that variant as a separate tag. Everything else (BlockSize, PoolType, object header)
 * is validated by the plugin.
 *
 * Search is native Buffer.indexOf per tag (memchr-speed), then the alignment filter.
 */
import { usageError } from '../../errors.js';
import type { Emit, ScanHit, Scanner, ScannerSpec } from '../types.js';
import { asBuffer, paramsObject } from './util.js';

export const POOL_HEADER_SIZE = 16;
const TAG_OFFSET = 4;

export interface PoolTagParams {
  /** 4-character tags, latin1 (one char = one byte), e.g. 'Proc', 'Thre', 'Pro\xe3'. */
  readonly tags: readonly string[];
}

export interface PoolTagHit extends ScanHit {
  /** Physical address of the _POOL_HEADER. */
  readonly pa: number;
  readonly tag: string;
  /** The 16 header bytes as found. */
  readonly header: Uint8Array;
}

export const poolTagScan = (params: PoolTagParams): ScannerSpec<PoolTagHit> => ({ kind: 'pool-tag', params });

function parse(params: unknown): string[] {
  const p = paramsObject('pool-tag', params);
  const tags = p.tags;
  if (!Array.isArray(tags) || tags.length === 0 || tags.length > 64) throw usageError(`scanner 'pool-tag': tags must be a list of 1..64 tags`);
  for (const t of tags) {
    if (typeof t !== 'string' || t.length !== 4 || !/^[\x00-\xff]{4}$/.test(t)) {
      throw usageError(`scanner 'pool-tag': tag ${JSON.stringify(t)} is not 4 latin1 characters`);
    }
  }
  return [...new Set(tags as string[])];
}

export function createScanner(params: unknown): Scanner<PoolTagHit> {
  const tags = parse(params);
  const needles = tags.map((t) => Buffer.from(t, 'latin1'));
  return {
    overlap: POOL_HEADER_SIZE - 1,
    scan(chunk: Uint8Array, chunkPa: number, emit: Emit<PoolTagHit>): void {
      const buf = asBuffer(chunk);
      const found: PoolTagHit[] = [];
      for (let t = 0; t < needles.length; t++) {
        const needle = needles[t]!;
        let pos = buf.indexOf(needle, TAG_OFFSET);
        while (pos !== -1) {
          const header = pos - TAG_OFFSET;
          const headerPa = chunkPa + header;
          if (headerPa % POOL_HEADER_SIZE === 0) {
            if (header + POOL_HEADER_SIZE > buf.length) break; // cut off: the next chunk sees it whole
            found.push({ pa: headerPa, tag: tags[t]!, header: chunk.slice(header, header + POOL_HEADER_SIZE) });
            pos = buf.indexOf(needle, pos + POOL_HEADER_SIZE);
          } else {
            pos = buf.indexOf(needle, pos + 1);
          }
        }
      }
      if (needles.length > 1) found.sort((a, b) => a.pa - b.pa);
      for (const h of found) emit(h);
    },
  };
}
