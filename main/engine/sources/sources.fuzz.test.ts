/**
 * Mutation fuzz of the image readers (ELF core, full and bitmap crash dumps, raw), starting from
 * valid files written by the sample writers. Rule (helpers brief, "Bad input"): each mutated file
 * either opens and serves reads that keep the PhysicalSource contract (data exactly the requested
 * length; absent ranges sorted, inside the request), or is refused with a one-line MemScopeError.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryFromBuffers, writeImage, type WriterFormat } from '../acquire/writers/index.js';
import { makeTempDir, patternBytes, removeTempDir } from '../acquire/writers/testing.js';
import { attempt, FuzzFailures, mutate, NASTY_U32, NASTY_U64, Prng } from '../util/testing/fuzz.js';
import { openSource } from './detect.js';
import type { PhysicalSource } from './physical-source.js';

const ITERATIONS = 300;
const SEGMENTS = [
  { start: 0x0, data: patternBytes(0x0, 0x9000) },
  { start: 0x20000, data: patternBytes(0x20000, 0x11000) },
  { start: 0x1_0000_0000, data: patternBytes(0x1_0000_0000, 0x3000) },
];

let dir: string;
const valid = new Map<WriterFormat, Uint8Array>();

beforeAll(() => {
  dir = makeTempDir('memscope-srcfuzz-');
  const content = memoryFromBuffers(SEGMENTS);
  for (const format of ['elf-core', 'crashdump-full', 'crashdump-bitmap', 'raw'] as const) {
    // raw stores holes as zeros: keep it small (runs below 4 GiB only)
    const c = format === 'raw' ? memoryFromBuffers(SEGMENTS.slice(0, 2)) : content;
    const p = path.join(dir, `valid.${format}`);
    writeImage(p, format, c, { crash: { header: { directoryTableBase: 0x1aa000n } } });
    valid.set(format, new Uint8Array(fs.readFileSync(p)));
  }
});
afterAll(() => removeTempDir(dir));

/** Field offsets worth setting to nasty values, per format (ELF: Elf64_Ehdr + each Elf64_Phdr). */
function hotFields(format: WriterFormat, b: Uint8Array): { at: number; size: 4 | 8 }[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (format === 'elf-core') {
    const phoff = Number(dv.getBigUint64(0x20, true));
    const phnum = dv.getUint16(0x38, true);
    const f: { at: number; size: 4 | 8 }[] = [{ at: 0x20, size: 8 }, { at: 0x28, size: 8 }, { at: 0x36, size: 4 }, { at: 0x38, size: 4 }];
    for (let i = 0; i < phnum; i++) for (const o of [0, 8, 0x10, 0x18, 0x20, 0x28]) f.push({ at: phoff + i * 56 + o, size: o === 0 ? 4 : 8 });
    return f;
  }
  if (format === 'crashdump-full' || format === 'crashdump-bitmap') {
    const f: { at: number; size: 4 | 8 }[] = [{ at: 0x88, size: 4 }, { at: 0x90, size: 8 }, { at: 0xf98, size: 4 }];
    for (let i = 0; i < 4; i++) f.push({ at: 0x98 + i * 16, size: 8 }, { at: 0xa0 + i * 16, size: 8 });
    if (format === 'crashdump-bitmap') f.push({ at: 0x2020, size: 8 }, { at: 0x2028, size: 8 }, { at: 0x2030, size: 8 }, { at: 0x2038, size: 8 });
    return f;
  }
  return [];
}

function mutateImage(rng: Prng, format: WriterFormat, src: Uint8Array): { bytes: Uint8Array; what: string } {
  let b = src.slice();
  const dv = new DataView(b.buffer);
  const whats: string[] = [];
  const n = rng.int(1, 4);
  for (let k = 0; k < n; k++) {
    const hot = hotFields(format, b);
    const r = rng.int(0, 9);
    if (r < 4 && hot.length > 0) {
      const f = rng.pick(hot);
      if (f.at + f.size > b.length) continue;
      if (f.size === 4) { const v = rng.pick(NASTY_U32); dv.setUint32(f.at, v, true); whats.push(`field 0x${f.at.toString(16)}=0x${v.toString(16)}`); }
      else { const v = rng.pick(NASTY_U64); dv.setBigUint64(f.at, v, true); whats.push(`field 0x${f.at.toString(16)}=0x${v.toString(16)}`); }
    } else if (r < 8) {
      whats.push(mutate(rng, b, format === 'raw' ? 0 : 0, Math.min(b.length, 0x3000)));
    } else {
      const cut = rng.int(0, b.length - 1);
      b = b.slice(0, cut);
      whats.push(`truncate at 0x${cut.toString(16)}`);
      break;
    }
  }
  return { bytes: b, what: whats.join(', ') || 'none' };
}

/** The PhysicalSource contract on a source that opened. */
function exercise(rng: Prng, src: PhysicalSource, failures: FuzzFailures, i: number, what: string): void {
  const runs = src.runs();
  for (let k = 0; k < runs.length; k++) {
    const r = runs[k]!;
    if (!(Number.isSafeInteger(r.start) && Number.isSafeInteger(r.length) && r.start >= 0 && r.length > 0)) failures.fail(i, what, `bad run ${JSON.stringify(r)}`);
    if (k > 0 && r.start < runs[k - 1]!.start + runs[k - 1]!.length) failures.fail(i, what, `runs unsorted/overlapping at ${k}`);
  }
  for (let k = 0; k < 6; k++) {
    const address = rng.bool(0.7) && runs.length > 0
      ? Math.max(0, rng.pick(runs).start + rng.int(-0x2000, 0x2000))
      : rng.int(0, Math.max(0, Math.min(Number.MAX_SAFE_INTEGER, src.size + 0x10000)));
    const length = rng.pick([0, 1, 8, 0x1000, 0x1001, rng.int(1, 0x30000)]);
    const { data, absent } = src.read(address, length);
    if (data.length !== length) failures.fail(i, what, `read(0x${address.toString(16)}, ${length}) returned ${data.length} bytes`);
    let prevEnd = address;
    for (const a of absent) {
      if (a.length <= 0 || a.start < prevEnd || a.start + a.length > address + length) {
        failures.fail(i, what, `read(0x${address.toString(16)}, ${length}) absent ${JSON.stringify(absent)} not sorted/inside the request`);
        break;
      }
      prevEnd = a.start + a.length;
    }
    if (src.readInto) {
      const target = new Uint8Array(Math.min(length, 0x2000)).fill(0xcc);
      const abs = src.readInto(address, target);
      for (const a of abs) if (a.start < address || a.start + a.length > address + target.length) failures.fail(i, what, `readInto absent ${JSON.stringify(a)} outside the request`);
    }
  }
}

describe('image readers under mutation (fuzz)', () => {
  it('the unmutated files open and read back the pattern (so the mutations start from valid input)', () => {
    for (const [format, bytes] of valid) {
      const p = path.join(dir, `check.${format}`);
      fs.writeFileSync(p, bytes);
      const src = openSource(p);
      try {
        const seg = SEGMENTS[1]!;
        expect(Buffer.from(src.read(seg.start + 0x123, 0x2000).data).equals(Buffer.from(seg.data.subarray(0x123, 0x2123))), format).toBe(true);
      } finally {
        src.close();
      }
    }
  });

  for (const format of ['elf-core', 'crashdump-full', 'crashdump-bitmap', 'raw'] as const) {
    it(`${format}: ${ITERATIONS} mutated files open and serve reads, or fail with a MemScopeError`, { timeout: 30_000 }, () => {
      const seed = 0x5eed + format.length;
      const rng = new Prng(seed);
      const failures = new FuzzFailures(`sources/${format}`, seed);
      const p = path.join(dir, `fuzz.${format}`);
      let opened = 0;
      for (let i = 0; i < ITERATIONS; i++) {
        const { bytes, what } = mutateImage(rng, format, valid.get(format)!);
        fs.writeFileSync(p, bytes);
        let src: PhysicalSource | null = null;
        attempt(failures, i, what, () => {
          src = openSource(p);
          opened++;
          exercise(rng, src, failures, i, what);
        });
        (src as PhysicalSource | null)?.close();
      }
      expect(failures.list, failures.list.join('\n\n')).toEqual([]);
      // Not vacuous: some mutations (e.g. in the unused PAGE filler) must still open.
      expect(opened).toBeGreaterThan(ITERATIONS / 20);
    });
  }
});
