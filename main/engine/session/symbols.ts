/** Kernel symbol lookup for the views' "Go to": `PsActiveProcessHead` or WinDbg's `nt!PsActiveProcessHead`. */
import { usageError } from '../errors.js';
import type { WindowsKernel } from '../windows/kernel.js';

export interface ResolvedSymbol {
  /** The symbol without its module prefix. */
  readonly name: string;
  readonly module: 'nt';
  readonly address: bigint;
}

/** The kernel module names WinDbg accepts for ntoskrnl (`nt!`, and the image names). */
const KERNEL_MODULES = new Set(['nt', 'ntoskrnl', 'ntkrnlmp', 'ntkrnlpa', 'ntkrpamp']);

export function resolveKernelSymbol(k: WindowsKernel, text: string): ResolvedSymbol {
  const raw = text.trim();
  const bang = raw.indexOf('!');
  const module = bang < 0 ? 'nt' : raw.slice(0, bang).toLowerCase();
  const name = bang < 0 ? raw : raw.slice(bang + 1);
  if (!KERNEL_MODULES.has(module)) throw usageError(`symbol ${JSON.stringify(raw)}: only kernel symbols (nt!…) are known to this profile, not module ${module}`);
  if (!/^[A-Za-z_?@$][\w?@$]*$/.test(name)) throw usageError(`symbol ${JSON.stringify(raw)} is not a symbol name`);
  if (!k.profile.hasSymbol(name)) throw usageError(`profile ${k.profile.label} has no symbol ${name}`);
  return { name, module: 'nt', address: k.symbolVa(name) };
}
