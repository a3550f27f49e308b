/**
 * Door 1 of the contract fuzz: the contract service itself, with a real session open on a sample
 * image so session-bound methods reach real code. Every case of every method (common/contract.ts's
 * `requests`, walked from its zod schemas by main/testing/contract-fuzz.ts) gets a typed error or a
 * valid result; nothing throws, hangs, grows the heap without bound, or writes a file anywhere.
 * `MEMSCOPE_FUZZ_CASES=200 npx vitest run main/service/contract.fuzz.test.ts` runs more property cases.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { METHODS, type Capabilities } from '../../common/contract.js';
import {
  allCases, changedFiles, completeTables, contextOf, collectGarbage, listFiles, makeSandbox, MIB, MIN_CASES_PER_METHOD, newStats, PEAK_RSS_BOUND, runCases, summary,
  type FuzzContext, type Sandbox,
} from '../testing/contract-fuzz.js';
import { createContractService } from './service.js';
import type { ContractService } from './types.js';

const caps: Capabilities = { host: 'bridge', nativeDialogs: false, live: { available: false, reason: 'no live memory in tests' }, initialImage: null, sampleImage: null };
let box: Sandbox;
let service: ContractService;
let ctx: FuzzContext;

beforeAll(async () => {
  box = await makeSandbox('memscope-fuzz-service-');
  service = createContractService({ capabilities: () => caps }, { session: { workers: 1, warmScan: false } });
  ctx = contextOf(box, await service.handle('openSession', { path: box.imagePath }));
  await completeTables(service, ctx.sessionId);
}, 60_000);
afterAll(async () => {
  await service?.dispose();
  box?.remove();
});

it('every contract method, every fuzz family, straight into the service: typed answers only', async () => {
  const cases = allCases(ctx);
  const stats = newStats('service');
  const before = listFiles(box.root);
  /** A case that opened a session of its own (a valid path under a new openId) closes it again. */
  const cleanup = async (answer: unknown) => {
    const v = (answer as { ok: boolean; value?: { sessionId?: unknown } }).value;
    if (typeof v?.sessionId === 'string' && v.sessionId !== ctx.sessionId) await service.handle('closeSession', { sessionId: v.sessionId });
  };
  // ordered so the methods that end things (close, cancel) come last and the open session serves the rest
  const ordered = [...cases].sort((a, b) => Number(/^(close|cancel)/.test(a.method)) - Number(/^(close|cancel)/.test(b.method)));
  await runCases(stats, ordered, (c) => service.handle(c.method, c.args), { cleanup, fifo: ctx.fifo });
  collectGarbage();
  const heap1 = process.memoryUsage().heapUsed;
  // the same batch again: what a leak per case would add shows as growth here
  const again = newStats('service-again');
  await runCases(again, ordered.filter((c) => !/^(close|cancel)/.test(c.method)), (c) => service.handle(c.method, c.args), { cleanup, fifo: ctx.fifo });
  collectGarbage();
  const growth = process.memoryUsage().heapUsed - heap1;
  console.log(`${summary(stats)}\n${summary(again)}\n  service heap growth over a second batch: ${(growth / MIB).toFixed(1)} MiB`);

  for (const m of METHODS) expect(stats.perMethod.get(m)?.cases ?? 0, m).toBeGreaterThanOrEqual(MIN_CASES_PER_METHOD);
  expect([...stats.problems, ...again.problems]).toEqual([]);
  expect(stats.hangs + stats.crashes).toBe(0);
  expect(stats.peakRss).toBeLessThan(PEAK_RSS_BOUND);
  expect(growth).toBeLessThan(64 * MIB);
  expect(changedFiles(before, listFiles(box.root))).toEqual([]); // the service writes nothing, anywhere
}, 240_000);
