/**
 * Mutation fuzz of the PDB reader (pdbToProfile, parsePdbIdentity) on a real PDB. Rule (helpers
 * brief, "Bad input"; issue 3: corrupt PDB streams): every mutated or truncated file converts or is
 * refused with a one-line MemScopeError — never a RangeError/TypeError from a raw DataView read, a
 * hang on a looping type chain, or an allocation sized by a corrupt count.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedDataPath } from '../../util/shared-data.js';
import { attempt, FuzzFailures, mutate, NASTY_U32, Prng } from '../../util/testing/fuzz.js';
import { parsePdbIdentity, pdbToProfile } from './index.js';
import { MsfFile } from './msf.js';
import { replaceStreams } from './testing/msf-writer.js';

const REAL = new Uint8Array(readFileSync(sharedDataPath('pdb', 'CrashWithException.pdb')));
const ITERATIONS = 800;

const STREAM_NAMES: Record<number, string> = { 1: 'PDB info', 2: 'TPI', 3: 'DBI', 4: 'IPI' };

/** Where the superblock points the stream directory: the block map block, then the directory blocks. */
function directoryRanges(b: Uint8Array): { lo: number; hi: number }[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const blockSize = dv.getUint32(32, true);
  const dirBytes = dv.getUint32(44, true);
  const mapAddr = dv.getUint32(52, true);
  const ranges = [{ lo: mapAddr * blockSize, hi: (mapAddr + 1) * blockSize }];
  for (let i = 0; i < Math.ceil(dirBytes / blockSize); i++) {
    const blk = dv.getUint32(mapAddr * blockSize + i * 4, true);
    ranges.push({ lo: blk * blockSize, hi: (blk + 1) * blockSize });
  }
  return ranges;
}

function mutatePdb(rng: Prng): { bytes: Uint8Array; what: string } {
  const kind = rng.int(0, 9);
  if (kind <= 1) {
    const b = REAL.slice();
    const dv = new DataView(b.buffer);
    // superblock fields after the 32-byte magic (block size, FPM block, block count, directory size, map address)
    const at = 32 + 4 * rng.int(0, 5);
    const v = rng.bool() ? rng.pick(NASTY_U32) : (dv.getUint32(at, true) ^ (1 << rng.int(0, 31))) >>> 0;
    dv.setUint32(at, v, true);
    return { bytes: b, what: `superblock u32 at ${at} = 0x${v.toString(16)}` };
  }
  if (kind <= 3) {
    const b = REAL.slice();
    const r = rng.pick(directoryRanges(REAL));
    const whats = [];
    for (let k = rng.int(1, 3); k > 0; k--) whats.push(mutate(rng, b, r.lo, r.hi));
    return { bytes: b, what: `stream directory: ${whats.join(', ')}` };
  }
  if (kind <= 8) {
    const index = rng.pick([1, 2, 2, 3, 3, 4]);
    const msf = MsfFile.open(REAL);
    const s = msf.stream(index, 'fuzz').slice();
    const whats = [];
    // Headers carry the counts and sizes: aim half the mutations at the first 64 bytes.
    for (let k = rng.int(1, 4); k > 0; k--) {
      if ((index === 2 || index === 4) && rng.bool(0.4) && s.length > 64) {
        // Rewire a type reference inside a record to another (or its own) type index: the way a
        // corrupt TPI/IPI builds cycles and dangling chains that random bytes rarely form.
        const dv = new DataView(s.buffer, s.byteOffset, s.byteLength);
        const begin = dv.getUint32(8, true);
        const end = dv.getUint32(12, true);
        const at = 56 + 2 * rng.int(0, (s.length - 60) / 2 - 1);
        const ti = rng.int(begin, Math.max(begin, end - 1));
        dv.setUint32(at, ti, true);
        whats.push(`type index 0x${ti.toString(16)} at 0x${at.toString(16)}`);
      } else {
        whats.push(mutate(rng, s, 0, rng.bool() ? 64 : s.length));
      }
    }
    const cut = rng.bool(0.15) ? rng.int(0, s.length - 1) : s.length;
    return { bytes: replaceStreams(REAL, new Map([[index, s.subarray(0, cut)]])), what: `${STREAM_NAMES[index]} stream: ${whats.join(', ')}${cut < s.length ? `, cut at ${cut}` : ''}` };
  }
  const cut = rng.int(0, REAL.length - 1);
  return { bytes: REAL.subarray(0, cut), what: `truncate at ${cut}` };
}

describe('PDB reader under mutation (fuzz)', () => {
  it('reads the unmutated PDB (so mutations start from valid input)', () => {
    const p = pdbToProfile(REAL, { label: 'CrashWithException.pdb' });
    expect(Object.keys(p.types).length).toBeGreaterThan(10);
    expect(parsePdbIdentity(REAL).guid).toMatch(/^[0-9A-F]{32}$/);
  });

  it(`${ITERATIONS} mutated PDBs convert or fail with a MemScopeError`, { timeout: 60_000 }, () => {
    const seed = 0x9db;
    const rng = new Prng(seed);
    const failures = new FuzzFailures('pdb', seed);
    let converted = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const { bytes, what } = mutatePdb(rng);
      attempt(failures, i, `${what} [identity]`, () => { parsePdbIdentity(bytes, { label: 'fuzz.pdb' }); });
      attempt(failures, i, what, () => {
        const p = pdbToProfile(bytes, { label: 'fuzz.pdb' });
        // A converted profile must still be a well-formed model (no NaN offsets from garbage).
        for (const [name, t] of Object.entries(p.types)) {
          if (!Number.isSafeInteger(t.size) || t.size < 0) failures.fail(i, what, `type ${name} has size ${t.size}`);
        }
        converted++;
      });
    }
    expect(failures.list, failures.list.join('\n\n')).toEqual([]);
    expect(converted).toBeGreaterThan(0);
  });
});
