/**
 * The hex view's page cache over a fake readMemory answering a 64 KiB physical space whose third
 * page is "outside the image": adjacent pages come in one read, on-screen pages before the margin,
 * each page keeps its own spans, a failed read names why, and nothing is asked twice.
 */
import { describe, expect, it } from 'vitest';
import type { Envelope, MemoryRead, MemScopeApi, PageSpan, SpaceRef } from '../../../common/contract.js';
import { PAGE, PageCache } from './page-cache.js';

const SIZE = 16 * PAGE;

function fakeApi() {
  const calls: { address: bigint; length: number }[] = [];
  const api = {
    readMemory: async (a: { space: SpaceRef; address: string; length: number }): Promise<Envelope<MemoryRead>> => {
      const address = BigInt(a.address);
      calls.push({ address, length: a.length });
      if (address + BigInt(a.length) > BigInt(SIZE)) return { ok: false, error: { code: 'invalid-request', message: 'past the end of the image' } };
      const bytes = new Uint8Array(a.length).map((_, i) => Number((address + BigInt(i)) & 0xffn));
      const spans: PageSpan[] = [];
      // page 2 is absent from the image: its bytes unreadable, its reason said
      for (let off = 0; off < a.length; off += PAGE) {
        const page = Number(address / BigInt(PAGE)) + off / PAGE;
        spans.push(page === 2
          ? { offset: off, length: PAGE, status: 'outside-image', readable: false, reason: 'absent from test' }
          : { offset: off, length: PAGE, status: 'resident', readable: true, reason: 'resident' });
      }
      return { ok: true, value: { space: a.space, dtb: null, address: a.address, bytes, spans } };
    },
  } as unknown as MemScopeApi;
  return { api, calls };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('PageCache', () => {
  it('asks for adjacent pages in one read, the screen before the margin, and never twice', async () => {
    const { api, calls } = fakeApi();
    const c = new PageCache(api, 's', { kind: 'physical' }, SIZE);
    let loads = 0;
    c.subscribe(() => loads++);
    c.wantRange(BigInt(PAGE) + 8n, BigInt(3 * PAGE), 4);
    await settle();
    // the two pages on screen first, as one read; then the margin's blocks (the 8-page block holding them, minus those)
    expect(calls[0]).toEqual({ address: BigInt(PAGE), length: 2 * PAGE });
    expect(calls.slice(1).map((x) => [Number(x.address / BigInt(PAGE)), x.length / PAGE])).toEqual([[0, 1], [3, 5]]);
    expect(loads).toBe(calls.length);
    c.wantRange(0n, BigInt(8 * PAGE), 0);
    await settle();
    expect(calls.length).toBe(3);
  });

  it('keeps each page\'s own spans: a byte reads, an unreadable one says why', async () => {
    const { api } = fakeApi();
    const c = new PageCache(api, 's', { kind: 'physical' }, SIZE);
    expect(c.byte(0x1234n)).toBeNull(); // loading, and asked for
    await settle();
    expect(c.byte(0x1234n)).toEqual({ value: 0x34 });
    c.wantRange(0x2000n, 0x3000n, 0);
    await settle();
    expect(c.byte(0x2010n)).toEqual({ unreadable: 'outside-image: absent from test' });
    expect(c.byte(0x1ff0n)).toEqual({ value: 0xf0 });
  });

  it('never asks past the end of physical memory; load() answers the page a pointer lands on', async () => {
    const { api, calls } = fakeApi();
    const c = new PageCache(api, 's', { kind: 'physical' }, SIZE);
    c.wantRange(BigInt(SIZE - PAGE), BigInt(SIZE), 16);
    await settle();
    for (const x of calls) expect(x.address + BigInt(x.length)).toBeLessThanOrEqual(BigInt(SIZE));
    const p = await c.load(0x5008n);
    expect(p.kind).toBe('bytes');
    // an address outside the space answers at once, saying why (a pointer is never followed into a wait)
    expect(await c.load(BigInt(SIZE) + 0x10n)).toEqual({ kind: 'error', message: `0x${(SIZE + 0x10).toString(16)} is past the end of physical memory (0x${SIZE.toString(16)} bytes)` });
    const v = new PageCache(api, 's', { kind: 'kernel' }, SIZE);
    expect(await v.load(0x0000_8000_0000_1000n)).toMatchObject({ kind: 'error', message: expect.stringMatching(/non-canonical/) });
  });
});
