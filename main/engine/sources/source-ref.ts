/**
 * A memory source described as data, so any thread can open its own view of it: the session, and
 * each scan worker (which cannot be handed an open file or device handle). One function opens every
 * kind. Saved images open here; the live kinds (the WinPmem device, and the simulated device that
 * serves an image through the driver's protocol) live in native/, outside the engine, and register
 * their opener together with the URL of the module that does so: a worker imports that module
 * first (registering the opener in its own thread), then opens the reference.
 */
import { MemScopeError } from '../errors.js';
import { openSource, type ImageFormat } from './detect.js';
import type { PhysicalSource } from './physical-source.js';

/** WinPmem acquisition mode to ask for: 'auto' = PTE first, physical as the fallback. */
export type LiveModeRequest = 'auto' | 'pte' | 'physical';

export type SourceRef =
  | { readonly kind: 'file'; readonly path: string; readonly format?: ImageFormat }
  /** The loaded WinPmem driver's device (`\\.\pmem`). */
  | { readonly kind: 'winpmem'; readonly device: string; readonly mode: LiveModeRequest; readonly physicalFallback?: boolean }
  /** An image served through the WinPmem protocol by the simulated driver (tests, demos). */
  | {
    readonly kind: 'simulated'; readonly image: string; readonly driver?: 'v2.0.1' | 'head'; readonly mode?: LiveModeRequest;
    /** Physical addresses of pages the simulated driver cannot map (fault tests). */
    readonly unreadablePages?: readonly number[];
  };

export type LiveSourceRef = Exclude<SourceRef, { kind: 'file' }>;

export interface LiveOpener {
  /** URL of the module that registers this opener when imported (workers import it). */
  readonly module: string;
  open(ref: LiveSourceRef): PhysicalSource;
}

let liveOpener: LiveOpener | null = null;

export function registerLiveOpener(opener: LiveOpener): void {
  liveOpener = opener;
}

/** The module a worker must import before opening a live reference (undefined: none registered). */
export function liveOpenerModule(): string | undefined {
  return liveOpener?.module;
}

export const fileRef = (path: string, format?: ImageFormat): SourceRef => (format ? { kind: 'file', path, format } : { kind: 'file', path });

export const isLiveRef = (ref: SourceRef): ref is LiveSourceRef => ref.kind !== 'file';

/** What to call the source in messages before it is open. */
export function describeRef(ref: SourceRef): string {
  switch (ref.kind) {
    case 'file':
      return ref.path;
    case 'winpmem':
      return ref.device;
    case 'simulated':
      return `simulated WinPmem device (${ref.image})`;
  }
}

/** Open any source reference read-only; the caller closes it. */
export function openSourceRef(ref: SourceRef): PhysicalSource {
  if (ref.kind === 'file') return openSource(ref.path, ref.format ? { format: ref.format } : {});
  if (!liveOpener) throw new MemScopeError('usage', `${describeRef(ref)}: live memory is not available in this build (no WinPmem support loaded)`);
  return liveOpener.open(ref);
}
