/** Discovery's steps as an open's stages: one call per change of stage, a scan's bytes throttled, its end always told. */
import { describe, expect, it } from 'vitest';
import { openStages } from './open-stages.js';

describe('open stages', () => {
  it('names each step once per change, in the order they come', () => {
    const seen: string[] = [];
    const st = openStages((stage) => seen.push(stage));
    st.begin('header');
    for (const step of ['dtb', 'dtb', 'validate', 'kernelBase', 'kernelBase', 'profile', 'validate', 'validate']) st.onDiscovery({ step, done: 0, total: 0 });
    expect(seen).toEqual([
      'reading the image header', 'finding the page-table base (DTB)', 'checking the kernel against its profile', 'finding the kernel base',
      'resolving the kernel profile', 'checking the kernel against its profile',
    ]);
  });

  it('reports a whole-memory scan as one stage with its bytes, at most every 100 ms, and always its last bytes', () => {
    const seen: { stage: string; bytes: { done: number; total: number } | null }[] = [];
    const st = openStages((stage, bytes) => seen.push({ stage, bytes }));
    st.onDiscovery({ step: 'dtb', done: 0, total: 0 });
    // both scan methods report the same bytes, many times a millisecond
    for (let d = 1; d <= 1000; d++) for (const m of ['dtb:selfref-pml4', 'dtb:system-process']) st.onDiscovery({ step: m, done: d, total: 1000 });
    expect(seen[0]).toEqual({ stage: 'finding the page-table base (DTB)', bytes: null });
    const scans = seen.slice(1);
    expect(scans[0]).toEqual({ stage: 'scanning memory for the page-table base (DTB)', bytes: { done: 1, total: 1000 } });
    expect(scans.length).toBeLessThan(50);
    expect(scans.at(-1)!.bytes).toEqual({ done: 1000, total: 1000 });
    st.onDiscovery({ step: 'profile', done: 0, total: 0 });
    expect(seen.at(-1)).toEqual({ stage: 'resolving the kernel profile', bytes: null });
  });
});
