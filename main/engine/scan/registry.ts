/**
 * Scanner kinds by name. Each loader is a literal dynamic import so tsc, tsx (workers running .ts
 * under tests) and vitest all resolve it; a worker builds its scanner from the same spec the caller
 * passed. A plugin may bring its own scanner without touching this file: ScannerSpec.module = a file
 * URL (e.g. `new URL('./my-scanner.js', import.meta.url).href`) of a module exporting createScanner.
 */
import { usageError } from '../errors.js';
import { anyOfParts, combineScanners } from './scanners/any-of.js';
import type { ScanHit, Scanner, ScannerModule, ScannerSpec } from './types.js';

const BUILTIN: Readonly<Record<string, () => Promise<ScannerModule>>> = {
  'pool-tag': () => import('./scanners/pool-tag.js') as Promise<ScannerModule>,
  bytes: () => import('./scanners/bytes.js') as Promise<ScannerModule>,
  'pml4-selfref': () => import('./scanners/pml4-selfref.js') as Promise<ScannerModule>,
};

export const builtinScannerKinds = (): string[] => [...Object.keys(BUILTIN), 'any-of'];

/** Import every built-in scanner module (a worker does this before it reports ready). */
export async function preloadBuiltinScanners(): Promise<void> {
  await Promise.all(Object.values(BUILTIN).map((load) => load()));
}

function isScannerModule(m: unknown): m is ScannerModule {
  return typeof m === 'object' && m !== null && typeof (m as { createScanner?: unknown }).createScanner === 'function';
}

/** Build the scanner a spec describes; bad kind/module/params are usage errors naming the kind. */
export async function loadScanner<H extends ScanHit>(spec: ScannerSpec<H>): Promise<Scanner<H>> {
  if (spec.kind === 'any-of' && spec.module === undefined) {
    const parts = await Promise.all(anyOfParts(spec.params).map((p) => loadScanner(p)));
    return combineScanners(parts) as unknown as Scanner<H>;
  }
  let mod: unknown;
  if (spec.module !== undefined) {
    try {
      mod = await import(spec.module);
    } catch (err) {
      throw usageError(`scanner '${spec.kind}': cannot load module ${spec.module}: ${(err as Error).message}`);
    }
  } else {
    const loader = BUILTIN[spec.kind];
    if (!loader) throw usageError(`scanner '${spec.kind}': unknown kind (built in: ${builtinScannerKinds().join(', ')})`);
    mod = await loader();
  }
  if (!isScannerModule(mod)) throw usageError(`scanner '${spec.kind}': module does not export createScanner(params)`);
  const scanner = mod.createScanner(spec.params) as Scanner<H>;
  if (!Number.isSafeInteger(scanner.overlap) || scanner.overlap < 0) {
    throw usageError(`scanner '${spec.kind}': invalid overlap ${scanner.overlap}`);
  }
  return scanner;
}
