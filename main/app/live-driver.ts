/**
 * The WinPmem driver must be gone from the system however the engine host ends: a normal exit
 * (window closed, app quit: main disposes the host), Ctrl-C / SIGTERM, an uncaught error, or the
 * parent going away. A run that dies harder (SIGKILL, power loss) is cleaned at the next start
 * (native/winpmem/lifecycle.ts: the marker).
 */
export interface ProcessLike {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  exit(code?: number): never;
}

/** Call `release` once on every way out of `proc`; signals and uncaught errors then exit. */
export function guardRelease(release: () => string[], proc: ProcessLike, warn: (line: string) => void): void {
  let done = false;
  const once = (): void => {
    if (done) return;
    done = true;
    for (const w of release()) warn(w);
  };
  proc.on('exit', once);
  proc.on('disconnect', once);
  proc.on('SIGINT', () => { once(); proc.exit(130); });
  proc.on('SIGTERM', () => { once(); proc.exit(143); });
  proc.on('uncaughtException', (e) => {
    once();
    warn(`uncaught error: ${e instanceof Error ? e.message : String(e)}`);
    proc.exit(1);
  });
}
