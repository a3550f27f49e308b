/**
 * `memscope translate` on REAL bytes: the QEMU `dump-guest-memory` core of a Debian guest
 * (engine translate/testing/qemu-fixture.ts, cached in .cache/fixtures after the first boot), its
 * answers compared with QEMU's own `info tlb` walk and `info registers` CR3. (Moved here from the
 * engine's qemu-real suite: no engine test imports the CLI.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { hex } from '../../engine/util/hex.js';
import { qemuFixture, type QemuFixture } from '../../engine/translate/testing/qemu-fixture.js';
import { parseCr3, parseInfoTlb, type TlbLeaf } from '../../engine/translate/testing/qemu-reference.js';
import type { CliIo } from '../context.js';
import { runCli } from '../main.js';

let fx: QemuFixture;
let leaves: TlbLeaf[];
let cr3: bigint;

beforeAll(async () => {
  fx = await qemuFixture({ log: (l) => console.log(l) });
  leaves = parseInfoTlb(fx.infoTlb);
  cr3 = parseCr3(fx.infoRegisters);
}, 200_000);

describe('memscope translate on the QEMU core', () => {
  it('gives the PA and page size QEMU reports, and null for an unmapped VA', async () => {
    const picks: TlbLeaf[] = [];
    for (const size of ['4K', '2M', '1G'] as const) {
      const of = leaves.filter((l) => l.page === size);
      for (const k of [0, 0.25, 0.5, 0.75, 1]) picks.push(of[Math.min(of.length - 1, Math.floor(k * of.length))]!);
    }
    const unmapped = leaves[0]!.va - 0x1000n; // below the lowest mapped user page
    const vas = [...picks.map((l, i) => l.va + BigInt(i * 8 + 3)), unmapped];
    let out = '';
    let err = '';
    const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t) };
    const code = await runCli(['translate', fx.corePath, '--dtb', hex(cr3), '--format', 'json', ...vas.map((v) => hex(v))], io);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual([
      ...picks.map((l, i) => ({ va: hex(l.va + BigInt(i * 8 + 3)), pa: hex(l.pa + i * 8 + 3), page: l.page, reason: 'resident' })),
      { va: hex(unmapped), pa: null, page: null, reason: expect.stringMatching(/not present$/) },
    ]);
  });
});

