/**
 * Mutation fuzz of the triage reader, starting from the real Windows x64 triage dump: its TRIAGE_DUMP
 * fields, data-block table, driver entries and their strings, KDBG copy and copied kernel objects get
 * nasty values, random bytes or a truncation. Rule (brief, "Bad input"): `openSource` refuses every
 * case with a one-line MemScopeError (a triage dump is never physical memory), and `info`'s summary
 * either comes back whole or fails with one line naming the field that was wrong.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProfileStore } from '../profile/store.js';
import { makeTempDir, removeTempDir } from '../acquire/writers/testing.js';
import { sharedDataPath } from '../util/shared-data.js';
import { attempt, attemptAsync, FuzzFailures, mutate, NASTY_U32, NASTY_U64, Prng } from '../util/testing/fuzz.js';
import { summarizeCrashDump } from '../windows/triage/summary.js';
import { crashSummaryJson } from '../windows/triage/summary-json.js';
import { openSource } from './detect.js';

const ITERATIONS = 300;
const SEED = 0x7e1a9e;
/** A failed summary must say which field was wrong: one of these (the reader's own field names). */
const NAMES_A_FIELD = new RegExp([
  'SizeOfDump', 'ValidOffset', 'ContextOffset', 'ExceptionOffset', 'MmOffset', 'UnloadedDriversOffset', 'PrcbOffset',
  'ProcessOffset', 'ThreadOffset', 'BrokenDriverOffset', 'SizeOfCallStack', 'StringPoolSize', 'StringPoolOffset',
  'DataPageSize', 'DataPageAddress', 'DebuggerDataSize', 'DataBlocksCount', 'data block \\d+ (Offset/Size|VirtualAddress)',
  'DriverCount', 'driver \\d+ DriverNameOffset', 'OwnerTag', 'TRIAGE_DUMP', 'crash dump header',
].join('|'));

let dir: string;
let real: Uint8Array;
let store: ProfileStore;
beforeAll(() => {
  dir = makeTempDir('memscope-triagefuzz-');
  real = new Uint8Array(fs.readFileSync(sharedDataPath('crash-dumps', 'triage_x64.dmp')));
  store = new ProfileStore({ home: path.join(dir, 'home') });
});
afterAll(() => removeTempDir(dir));

interface Hot { readonly at: number; readonly size: 4 | 8 }

/** Where the triage reader looks, as the unmutated dump lays it out (see triage-dump.test.ts). */
function hotFields(b: Uint8Array): { header: Hot[]; fields: Hot[]; spans: [number, number][] } {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u32 = (at: number): number => dv.getUint32(at, true);
  const header: Hot[] = [];
  for (let at = 0x2000; at < 0x2080; at += 4) if (at !== 0x204c && at !== 0x2064) header.push({ at, size: at === 0x2048 || at === 0x2060 ? 8 : 4 });
  const fields: Hot[] = [];
  const blocks = u32(0x2078);
  for (let i = 0; i < 64; i++) {
    const e = blocks + i * 37 * 16; // a spread of entries across the table
    fields.push({ at: e, size: 8 }, { at: e + 8, size: 4 }, { at: e + 12, size: 4 });
  }
  const drivers = u32(0x2030);
  for (let i = 0; i < 151; i += 5) {
    const e = drivers + i * 0x90;
    // DriverNameOffset, the DUMP_STRING Length it points at, DllBase, SizeOfImage
    fields.push({ at: e, size: 4 }, { at: u32(e), size: 4 }, { at: e + 0x38, size: 8 }, { at: e + 0x48, size: 4 });
  }
  const kdbg = u32(0x2070);
  for (const o of [0x10, 0x14, 0x18, 0x48, 0x50]) fields.push({ at: kdbg + o, size: o === 0x10 || o === 0x14 ? 4 : 8 });
  fields.push({ at: u32(0x2008), size: 4 }); // the TRGD marker
  // the copied PRCB, process and thread: decoded with the profile, must never throw
  const spans: [number, number][] = [[u32(0x201c), u32(0x201c) + 0x100], [u32(0x2020), u32(0x2024)], [u32(0x2024), u32(0x2028)]];
  return { header, fields, spans };
}

function mutateDump(rng: Prng, src: Uint8Array, hot: ReturnType<typeof hotFields>): { bytes: Uint8Array; what: string } {
  let b = src.slice();
  const dv = new DataView(b.buffer);
  const { header, fields, spans } = hot;
  const whats: string[] = [];
  for (let k = 0, n = rng.int(1, 4); k < n; k++) {
    const r = rng.int(0, 9);
    if (r < 6) {
      const f = rng.pick(r < 3 ? header : fields); // TRIAGE_DUMP's own fields half the time

      if (f.size === 4) { const v = rng.pick(NASTY_U32); dv.setUint32(f.at, v, true); whats.push(`u32 0x${v.toString(16)} at 0x${f.at.toString(16)}`); }
      else { const v = rng.pick(NASTY_U64); dv.setBigUint64(f.at, v, true); whats.push(`u64 0x${v.toString(16)} at 0x${f.at.toString(16)}`); }
    } else if (r < 8) {
      const [lo, hi] = rng.pick(spans);
      whats.push(mutate(rng, b, lo, hi));
    } else if (r < 9) {
      whats.push(mutate(rng, b, 0x2000, 0x2080));
    } else {
      const cut = rng.int(0x1ff0, b.length - 1);
      b = b.slice(0, cut);
      whats.push(`truncate at 0x${cut.toString(16)}`);
      break;
    }
  }
  return { bytes: b, what: whats.join(', ') };
}

describe('triage reader under mutation (fuzz, real x64 triage dump)', () => {
  it('the unmutated dump summarises (so the mutations start from valid input)', async () => {
    const p = path.join(dir, 'valid.dmp');
    fs.writeFileSync(p, real);
    const s = await summarizeCrashDump(p, { store });
    expect(s?.triage?.drivers).toHaveLength(151);
    expect(s?.triage?.crashingThread?.process.imageFileName).toBe('System');
  });

  it(`${ITERATIONS} mutated dumps: openSource refuses each in one line; the summary is whole or names the bad field`, { timeout: 60_000 }, async () => {
    const rng = new Prng(SEED);
    const failures = new FuzzFailures('sources/triage', SEED);
    const p = path.join(dir, 'fuzz.dmp');
    let summarised = 0;
    let refused = 0;
    const hot = hotFields(real);
    for (let i = 0; i < ITERATIONS; i++) {
      const { bytes, what } = mutateDump(rng, real, hot);
      fs.writeFileSync(p, bytes);
      attempt(failures, i, what, () => {
        openSource(p).close();
        failures.fail(i, what, 'a triage dump opened as physical memory');
      });
      await attemptAsync(failures, i, what, async () => {
        try {
          const s = await summarizeCrashDump(p, { store });
          if (!s?.triage) return failures.fail(i, what, 'no triage summary for a triage dump');
          JSON.stringify(crashSummaryJson(s)); // every value renders
          for (const d of s.triage.drivers) if (typeof d.name !== 'string' || d.size < 0) failures.fail(i, what, `bad driver ${JSON.stringify(d.name)}`);
          summarised++;
        } catch (e) {
          refused++;
          if (e instanceof Error && !NAMES_A_FIELD.test(e.message)) failures.fail(i, what, `error names no field: ${e.message}`);
          throw e; // FuzzFailures checks it is a one-line MemScopeError
        }
      }, 5_000);
    }
    expect(failures.list, failures.list.join('\n\n')).toEqual([]);
    // Not vacuous: both outcomes happen.
    expect(summarised).toBeGreaterThan(ITERATIONS / 10);
    expect(refused).toBeGreaterThan(ITERATIONS / 10);
  });
});
