import { beforeAll, describe, expect, it } from 'vitest';
import type { Profile } from '../profile/profile.js';
import { readEprocessUnmapped, UNMAPPED_REMNANT_NOTE } from './eprocess.js';
import { ObjectTypes } from './object-header.js';
import { COOKIE, KernelFixture } from './testing/kernel-fixture.js';
import { loadIsfProfile } from './testing/isf-profile.js';
import { validateUnmappedPoolObject, viewInUnmappedPage } from './unmapped-pool-object.js';

/**
 * The validator is handed a PA and nothing else: it must recover the object from that page alone,
 * guessing VA bits 12..15 for the cookie decode (the fixture's VA is the ground truth it must find).
 */
let profile: Profile;
beforeAll(async () => { profile = await loadIsfProfile(19041); });

const setup = () => {
  const f = new KernelFixture(profile);
  const types = new ObjectTypes(profile, f.kernel, (n) => f.symbolVa(n));
  return { f, ctx: { profile, source: f.b.source, types } };
};
const eSize = () => profile.sizeOf('_EPROCESS');

describe('validateUnmappedPoolObject', () => {
  it('finds the Process header from the PA alone and the VA bits 12..15 it was encoded with', () => {
    const { f, ctx } = setup();
    expect(ctx.types.cookie).toBe(COOKIE);
    for (const infoMask of [0x00, 0x08, 0x09]) {
      const o = f.plantObject({ objectType: 'Process', structType: '_EPROCESS', tag: 'Proc', infoMask });
      const r = validateUnmappedPoolObject(ctx, f.pa(o.poolVa), 'Process', eSize());
      expect(r.ok, `InfoMask ${infoMask}`).toBe(true);
      if (!r.ok) continue;
      expect(r.object.bodyPa).toBe(f.pa(o.bodyVa));
      expect(r.object.infoMask).toBe(infoMask);
      expect(r.object.typeIndex).toBe(7);
      expect(r.object.vaBits12to15).toBe(Number((o.headerVa >> 12n) & 0xfn));
    }
  });

  it('rejects a header that is not a Process under any of the 16 VA guesses and a header past the page end; a free block is a freed object', () => {
    const { f, ctx } = setup();
    const thread = f.plantObject({ objectType: 'Thread', structType: '_EPROCESS', tag: 'Proc' });
    expect(validateUnmappedPoolObject(ctx, f.pa(thread.poolVa), 'Process', eSize()))
      .toMatchObject({ ok: false, reason: expect.stringContaining('under any value of VA bits 12..15') });
    const free = f.plantObject({ objectType: 'Process', structType: '_EPROCESS', tag: 'Proc', poolType: 0, infoMask: 0x08 });
    expect(validateUnmappedPoolObject(ctx, f.pa(free.poolVa), 'Process', eSize()))
      .toMatchObject({ ok: true, object: { bodyPa: f.pa(free.bodyVa), freed: true, vaBits12to15: Number((free.headerVa >> 12n) & 0xfn) } });
    const freeThread = f.plantObject({ objectType: 'Thread', structType: '_EPROCESS', tag: 'Proc', poolType: 0 });
    expect(validateUnmappedPoolObject(ctx, f.pa(freeThread.poolVa), 'Process', eSize()))
      .toMatchObject({ ok: false, reason: expect.stringMatching(/^freed pool block \(PoolType 0\) at PA 0x[0-9a-f]+: .*under any value of VA bits 12..15/) });
    f.straddleNext(0x20); // pool header 32 bytes before the page end: the object header is on another page
    const cut = f.plantObject({ objectType: 'Process', structType: '_EPROCESS', tag: 'Proc', infoMask: 0x08 });
    expect(validateUnmappedPoolObject(ctx, f.pa(cut.poolVa), 'Process', eSize()))
      .toMatchObject({ ok: false, reason: expect.stringContaining('not in the page') });
  });

  it('reads only the hit page: EPROCESS fields past its end are missing, the row has no VA and says why', () => {
    const { f, ctx } = setup();
    f.straddleNext(0x100);
    const o = f.plantObject({ objectType: 'Process', structType: '_EPROCESS', tag: 'Proc', infoMask: 0x01 });
    f.writeField(o.bodyVa, '_EPROCESS', 'Pcb.Header.Type', 3n); // offset 0: on the first page
    f.writeField(o.bodyVa, '_EPROCESS', 'UniqueProcessId', 0x1234n); // past the page end
    const r = validateUnmappedPoolObject(ctx, f.pa(o.poolVa), 'Process', eSize());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const view = viewInUnmappedPage(profile, ctx.source, '_EPROCESS', r.object.bodyPa);
    expect(view.u8('Pcb.Header.Type')).toBe(3);
    expect(view.pointer('UniqueProcessId')).toBeNull(); // lived on an unrelated page
    const row = readEprocessUnmapped({ profile, kernel: f.kernel, source: ctx.source }, r.object.bodyPa, view);
    expect(row.offset).toBeNull();
    expect(row.physicalOffset).toBe(r.object.bodyPa);
    expect(row.pid).toBeNull();
    expect(row.missing).toEqual(expect.arrayContaining(['UniqueProcessId', 'ImageFileName', 'CreateTime']));
    expect(row.warnings).toContain(UNMAPPED_REMNANT_NOTE);
  });
});
