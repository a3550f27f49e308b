import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import xz from 'xz-decompress';
import { classifySoftwarePte, WINDOWS_PTE_BITS } from './windows-pte.js';
import { sharedDataPath } from '../../util/shared-data.js';

const ISF_DIR = sharedDataPath('windows-symbols', 'ntkrnlmp.pdb');
// Windows 10 2004 (10.0.19041.508), Windows 11 (10.0.22000.318), Windows 8.1 (6.3.9600)
const ISFS = ['641F55C592201DCC4F59FACC72EA54DA-1', '32C1A669D5FFEFD41091F636CFDB6E99-1', 'FF378CEA20B942F3A9711A6BB0210B52-1'];

interface IsfField { type: { kind?: string; bit_position?: number; bit_length?: number } }
interface Isf { user_types: Record<string, { fields: Record<string, IsfField> }> }

async function loadIsf(name: string): Promise<Isf> {
  const stream = new xz.XzReadableStream(new Blob([fs.readFileSync(`${ISF_DIR}/${name}.json.xz`)]).stream());
  return JSON.parse(await new Response(stream).text()) as Isf;
}

const bits = (isf: Isf, type: string, field: string): [number | undefined, number | undefined] => {
  const f = isf.user_types[type]?.fields[field];
  return [f?.type.bit_position, f?.type.bit_length];
};

describe('Windows x64 PTE layout matches the real kernel symbol tables', () => {
  for (const name of ISFS) {
    it(`${name}: _MMPTE_SOFTWARE/_MMPTE_TRANSITION/_MMPTE_PROTOTYPE bit positions`, async () => {
      const isf = await loadIsf(name);
      expect(bits(isf, '_MMPTE_HARDWARE', 'Valid')).toEqual([WINDOWS_PTE_BITS.valid, 1]);
      expect(bits(isf, '_MMPTE_SOFTWARE', 'SwizzleBit')).toEqual([WINDOWS_PTE_BITS.swizzle, 1]);
      expect(bits(isf, '_MMPTE_SOFTWARE', 'Prototype')).toEqual([WINDOWS_PTE_BITS.prototype, 1]);
      expect(bits(isf, '_MMPTE_PROTOTYPE', 'Prototype')).toEqual([WINDOWS_PTE_BITS.prototype, 1]);
      expect(bits(isf, '_MMPTE_SOFTWARE', 'Transition')).toEqual([WINDOWS_PTE_BITS.transition, 1]);
      expect(bits(isf, '_MMPTE_TRANSITION', 'Transition')).toEqual([WINDOWS_PTE_BITS.transition, 1]);
      // the PFN starts at bit 12 and lies inside the bits we read (12..51): 36 bits to Win10, 40 on Win11
      const [pos, len] = bits(isf, '_MMPTE_TRANSITION', 'PageFrameNumber');
      expect(pos).toBe(WINDOWS_PTE_BITS.transitionPfn.position);
      expect(pos! + len!).toBeLessThanOrEqual(WINDOWS_PTE_BITS.transitionPfn.position + WINDOWS_PTE_BITS.transitionPfn.length);
      // and any field above the PFN is unused (zero), so reading 12..51 never picks up foreign bits
      for (const [field, f] of Object.entries(isf.user_types['_MMPTE_TRANSITION']!.fields)) {
        if ((f.type.bit_position ?? 0) > pos! && field !== 'PageFrameNumber') expect(field).toMatch(/^Unused/);
      }
      const pf = WINDOWS_PTE_BITS.pageFileHigh;
      expect(bits(isf, '_MMPTE_SOFTWARE', 'PageFileHigh')).toEqual([pf.position, pf.length]);
    });
  }
});

describe('classifySoftwarePte', () => {
  const split = (v: bigint): [number, number] => [Number(v & 0xffffffffn), Number(v >> 32n)];
  it('decodes each software format', () => {
    expect(classifySoftwarePte(...split(0n))).toEqual({ kind: 'zero' });
    // transition: PFN in bits 12..51, bits 52..63 (Unused) ignored
    expect(classifySoftwarePte(...split(0xfff4_1234_5678_9880n))).toEqual({ kind: 'transition', frame: 0x4_1234_5678_9000 });
    expect(classifySoftwarePte(...split(0xffffa8000123_4400n))).toEqual({ kind: 'prototype' });
    expect(classifySoftwarePte(...split(0x0000_0abc_0000_0090n))).toEqual({ kind: 'pagefile' });
    expect(classifySoftwarePte(...split(0x0000_0000_0000_0080n))).toEqual({ kind: 'demand-zero' });
  });
});
