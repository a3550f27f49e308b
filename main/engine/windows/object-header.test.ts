import { beforeAll, describe, expect, it } from 'vitest';
import type { Profile } from '../profile/profile.js';
import { ObjectTypes, classifyPoolType, decodePoolHeader, decodeTypeIndex, optionalHeadersSize } from './object-header.js';
import { validatePoolObject } from './pool-object.js';
import { KernelPageMap } from './kernel-pages.js';
import { COOKIE, KernelFixture } from './testing/kernel-fixture.js';
import { loadIsfProfile } from './testing/isf-profile.js';

let profile: Profile;
beforeAll(async () => { profile = await loadIsfProfile(19041); });

describe('pool header', () => {
  it('decodes x64 _POOL_HEADER bitfields from the profile', () => {
    const b = Uint8Array.of(0x00, 0x00, 0xa9, 0x02, 0x50, 0x72, 0x6f, 0xe3, 0, 0, 0, 0, 0, 0, 0, 0);
    const h = decodePoolHeader(profile, b);
    expect(h.blockSize).toBe(0xa9);
    expect(h.blockBytes).toBe(0xa90);
    expect(h.poolType).toBe(2);
    expect(h.tag).toBe('Proc'); // protected bit 0x80 of the last tag byte cleared
  });
  it('classifies PoolType: 0 free, odd paged, even non-paged', () => {
    expect(classifyPoolType(0)).toBe('free');
    expect(classifyPoolType(1)).toBe('paged');
    expect(classifyPoolType(3)).toBe('paged');
    expect(classifyPoolType(2)).toBe('non-paged');
  });
});

describe('object header', () => {
  it('sizes the optional headers InfoMask selects (Windows 10 layout)', () => {
    expect(optionalHeadersSize(profile, 0).size).toBe(0);
    expect(optionalHeadersSize(profile, 0x01).size).toBe(32); // creator
    expect(optionalHeadersSize(profile, 0x09).size).toBe(64); // creator + quota
    expect(optionalHeadersSize(profile, 0x88)).toEqual({ size: 36, padding: true }); // quota + padding
  });
  it('decodes TypeIndex with the cookie and byte 1 of the header address', () => {
    // Windows 10: stored = real ^ cookie ^ ((header >> 8) & 0xff)
    expect(decodeTypeIndex(0x07 ^ 0x5a ^ 0x12, 0x5a, 0xffffc00000001230n)).toBe(7);
    expect(decodeTypeIndex(0x07, null, 0xffffc00000001230n)).toBe(7);
  });
  it('looks type names up in ObTypeIndexTable', () => {
    const f = new KernelFixture(profile);
    const types = new ObjectTypes(profile, f.kernel, (n) => f.symbolVa(n));
    expect(types.cookie).toBe(COOKIE);
    expect(types.name(7)).toBe('Process');
    expect(types.name(8)).toBe('Thread');
    expect(types.name(9)).toBeNull();
    expect(types.indexOf('Thread')).toBe(8);
  });
});

describe('validatePoolObject', () => {
  const setup = () => {
    const f = new KernelFixture(profile);
    const types = new ObjectTypes(profile, f.kernel, (n) => f.symbolVa(n));
    return { f, ctx: { profile, kernel: f.kernel, types } };
  };
  const size = () => profile.sizeOf('_EPROCESS');

  it('accepts a Proc block and finds the body past the optional headers', () => {
    const { f, ctx } = setup();
    const o = f.plantObject({ objectType: 'Process', structType: '_EPROCESS', tag: 'Proc', infoMask: 0x09 });
    const r = validatePoolObject(ctx, o.poolVa, 'Process', size());
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.object.bodyVa).toBe(o.bodyVa);
      expect(r.object.infoMask).toBe(0x09);
      expect(r.object.typeIndex).toBe(7);
    }
  });

  it('accepts a free block (PoolType 0) as a freed object, still checking its header; a live block is not freed', () => {
    const { f, ctx } = setup();
    const live = f.plantObject({ objectType: 'Process', structType: '_EPROCESS', tag: 'Proc' });
    const free = f.plantObject({ objectType: 'Process', structType: '_EPROCESS', tag: 'Proc', poolType: 0 });
    const freeThread = f.plantObject({ objectType: 'Thread', structType: '_EPROCESS', tag: 'Proc', poolType: 0 });
    const freeSmall = f.plantObject({ objectType: 'Process', structType: '_EPROCESS', tag: 'Proc', poolType: 0, blockBytes: 0x200 });
    expect(validatePoolObject(ctx, live.poolVa, 'Process', size())).toMatchObject({ ok: true, object: { bodyVa: live.bodyVa, freed: false } });
    expect(validatePoolObject(ctx, free.poolVa, 'Process', size())).toMatchObject({ ok: true, object: { bodyVa: free.bodyVa, freed: true } });
    expect(validatePoolObject(ctx, freeThread.poolVa, 'Process', size()))
      .toMatchObject({ ok: false, reason: expect.stringMatching(/^freed pool block \(PoolType 0\) at 0x[0-9a-f]+: object header at .* has type Thread/) });
    expect(validatePoolObject(ctx, freeSmall.poolVa, 'Process', size()))
      .toMatchObject({ ok: false, reason: expect.stringMatching(/^freed pool block \(PoolType 0\) at 0x[0-9a-f]+ is 512 bytes, too small/) });
  });

  it('rejects paged, too-small, wrong-type and wrong-cookie blocks, saying why', () => {
    const { f, ctx } = setup();
    const paged = f.plantObject({ objectType: 'Process', structType: '_EPROCESS', tag: 'Proc', poolType: 3 });
    const small = f.plantObject({ objectType: 'Process', structType: '_EPROCESS', tag: 'Proc', blockBytes: 0x200 });
    const thread = f.plantObject({ objectType: 'Thread', structType: '_EPROCESS', tag: 'Proc' });
    const raw = f.plantObject({ objectType: 'Process', structType: '_EPROCESS', tag: 'Proc', typeIndexOverride: 7 }); // not encoded
    expect(validatePoolObject(ctx, paged.poolVa, 'Process', size())).toMatchObject({ ok: false, reason: expect.stringContaining('paged') });
    expect(validatePoolObject(ctx, small.poolVa, 'Process', size())).toMatchObject({ ok: false, reason: expect.stringContaining('too small') });
    expect(validatePoolObject(ctx, thread.poolVa, 'Process', size())).toMatchObject({ ok: false, reason: expect.stringContaining('Thread') });
    const h = validatePoolObject(ctx, raw.poolVa, 'Process', size());
    // 7 stored without the cookie decodes to something else (unless the header byte cancels the cookie)
    expect(h.ok).toBe(((raw.headerVa >> 8n) & 0xffn) === BigInt(COOKIE));
  });

  it('reads a block straddling a page boundary through the kernel space, and maps PA back to VA', () => {
    const { f, ctx } = setup();
    f.straddleNext(0x100); // pool header 256 bytes before the end of a page
    const o = f.plantObject({ objectType: 'Process', structType: '_EPROCESS', tag: 'Proc', infoMask: 0x01 });
    const first = f.pa(o.poolVa);
    const second = f.pa((o.poolVa + 0x1000n) & ~0xfffn);
    expect(second).not.toBe((first & ~0xfff) + 0x1000); // halves are on unrelated physical pages
    const map = KernelPageMap.build(f.b.source, f.b.pml4);
    expect(map.vaOf(first)).toBe(o.poolVa);
    expect(map.vaOf(0x7fff_0000)).toBeNull();
    const r = validatePoolObject(ctx, map.vaOf(first)!, 'Process', size());
    expect(r.ok).toBe(true);
  });
});
