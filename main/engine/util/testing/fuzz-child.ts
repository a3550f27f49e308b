/**
 * Entry of the child process that runs fuzz cases (see FuzzChild in fuzz.ts). Each message names a
 * case module (a file URL exporting `runCase(input)`) and its input; the reply carries the value or
 * the error (with whether it was a MemScopeError, which the parent cannot test across processes).
 * The parent kills this process when a case overruns its deadline, so a case stuck in a synchronous
 * loop is caught, which no timer in the same thread can do.
 */
import { MemScopeError } from '../../errors.js';

export interface CaseRequest {
  readonly id: number;
  readonly module: string;
  /** Only load the module (start-up cost paid before any deadline runs). */
  readonly warm?: boolean;
  readonly input?: unknown;
}

export interface CaseError {
  readonly name: string;
  readonly message: string;
  readonly stack: string;
  readonly memScope: boolean;
}

export type CaseReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: CaseError };

type CaseModule = { runCase(input: unknown): Promise<unknown> | unknown };

const reply = (r: CaseReply) => process.send?.(r);
/** Loaded once: a dynamic import() of a loaded module still goes through the loader's hooks. */
const modules = new Map<string, Promise<CaseModule>>();

process.on('message', (m: CaseRequest) => {
  void (async () => {
    try {
      let load = modules.get(m.module);
      if (!load) modules.set(m.module, (load = import(m.module) as Promise<CaseModule>));
      const mod = await load;
      reply({ id: m.id, ok: true, value: m.warm ? null : await mod.runCase(m.input) });
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      reply({ id: m.id, ok: false, error: { name: err.name, message: err.message, stack: err.stack ?? '', memScope: e instanceof MemScopeError } });
    }
  })();
});
