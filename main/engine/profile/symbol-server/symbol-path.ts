import { usageError } from '../../errors.js';

/**
 * `_NT_SYMBOL_PATH` syntax (Debugging Tools for Windows, "Symbol path for Windows debuggers"):
 * entries separated by `;`; `srv*[downstream*…]*url` names a symbol server with optional local
 * downstream stores (`srv*C:\cache*https://msdl.microsoft.com/download/symbols`); `symsrv*symsrv.dll*…`
 * is the long form; `cache*dir` adds a local cache; anything else is a plain directory of PDBs.
 */
export type SymbolStore =
  | { readonly kind: 'http'; readonly url: string }
  | { readonly kind: 'local'; readonly dir: string; readonly layout: 'symstore' | 'flat' };

export const MICROSOFT_SYMBOL_SERVER = 'https://msdl.microsoft.com/download/symbols';
export const DEFAULT_SYMBOL_PATH = `srv*${MICROSOFT_SYMBOL_SERVER}`;

const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);

export function parseSymbolPath(text: string): SymbolStore[] {
  const stores: SymbolStore[] = [];
  for (const raw of text.split(';')) {
    const entry = raw.trim();
    if (!entry) continue;
    const parts = entry.split('*').map((p) => p.trim());
    const head = parts[0]!.toLowerCase();
    if (head === 'srv' || head === 'symsrv') {
      const rest = head === 'symsrv' ? parts.slice(2) : parts.slice(1); // symsrv*<dll>*…
      if (rest.length === 0 || rest.every((p) => p === '')) throw usageError(`symbol path entry "${entry}" names no store`);
      for (const p of rest) {
        if (!p) continue; // `srv**url` = default downstream store: ours is always the MemScope cache
        if (isUrl(p)) stores.push({ kind: 'http', url: p.replace(/\/+$/, '') });
        else stores.push({ kind: 'local', dir: p, layout: 'symstore' });
      }
    } else if (head === 'cache') {
      for (const p of parts.slice(1)) if (p) stores.push({ kind: 'local', dir: p, layout: 'symstore' });
    } else if (parts.length > 1) {
      throw usageError(`symbol path entry "${entry}" is not srv*…, symsrv*…, cache*… or a directory`);
    } else if (isUrl(entry)) {
      stores.push({ kind: 'http', url: entry.replace(/\/+$/, '') });
    } else {
      stores.push({ kind: 'local', dir: entry, layout: 'flat' });
    }
  }
  return stores;
}

/** Symbol-server relative path of a PDB: `<pdb>/<GUID><AGE hex>/<pdb>` (symstore two-tier layout). */
export function symbolStorePath(pdbName: string, guidAge: string): string {
  return `${pdbName}/${guidAge}/${pdbName}`;
}
