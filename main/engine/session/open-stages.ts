/**
 * The stages of opening an image, in the words a screen shows while the user waits: reading the
 * header, finding the page-table base (DTB), finding the kernel, resolving its profile. Discovery
 * reports its steps (discover.ts `onProgress`: 'dtb', 'kernelBase', 'profile', 'validate', and
 * 'dtb:<method>' with bytes while it scans memory); this turns them into one call per change of stage,
 * plus byte progress at most every 100 ms while a stage scans.
 */
import type { DiscoveryProgress } from '../windows/discovery/types.js';

export type OpenStageFn = (stage: string, bytes: { readonly done: number; readonly total: number } | null) => void;

const STAGE_OF: Record<string, string> = {
  header: 'reading the image header',
  dtb: 'finding the page-table base (DTB)',
  kernelBase: 'finding the kernel base',
  profile: 'resolving the kernel profile',
  validate: 'checking the kernel against its profile',
};
const SCANNING = 'scanning memory for the page-table base (DTB)';
const BYTES_EVERY_MS = 100;

export function openStages(onStage: OpenStageFn): { begin(step: string): void; onDiscovery(p: DiscoveryProgress): void } {
  let last: string | null = null;
  let lastBytesAt = 0;
  const begin = (step: string): void => {
    const stage = STAGE_OF[step] ?? step;
    if (stage === last) return;
    last = stage;
    onStage(stage, null);
  };
  return {
    begin,
    onDiscovery(p) {
      if (!p.step.startsWith('dtb:')) { begin(p.step); return; }
      // a whole-memory scan reports once per method for the same bytes: one stage, throttled
      const now = performance.now();
      if (last === SCANNING && now - lastBytesAt < BYTES_EVERY_MS && p.done < p.total) return;
      last = SCANNING;
      lastBytesAt = now;
      onStage(SCANNING, { done: p.done, total: p.total });
    },
  };
}
