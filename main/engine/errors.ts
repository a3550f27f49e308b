/**
 * Every failure the engine reports to a user goes through MemScopeError: one clear line that names
 * the thing (a file, an address, a profile) and what is wrong with it. The CLI maps `kind` to its
 * exit code; the UI shows `message` as is.
 */
export type ErrorKind =
  | 'usage' // the caller asked for something malformed (CLI exit 2)
  | 'format' // the input's bytes are not what they claim to be (truncated, corrupt, unknown format)
  | 'io' // the OS refused (missing file, permission, device error)
  | 'analysis' // the input is well-formed but the analysis cannot proceed (no kernel found, no profile)
  | 'cancelled';

export class MemScopeError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MemScopeError';
    this.kind = kind;
  }
}

export const formatError = (what: string, problem: string): MemScopeError =>
  new MemScopeError('format', `${what}: ${problem}`);

export const usageError = (problem: string): MemScopeError => new MemScopeError('usage', problem);

export const analysisError = (what: string, problem: string): MemScopeError =>
  new MemScopeError('analysis', `${what}: ${problem}`);

/** Wrap a Node fs error so the message names the file and the OS reason, not a stack. */
export function ioError(path: string, err: unknown): MemScopeError {
  const e = err as NodeJS.ErrnoException;
  const reason =
    e?.code === 'ENOENT' ? 'no such file' :
    e?.code === 'EACCES' || e?.code === 'EPERM' ? 'permission denied' :
    e?.code === 'EISDIR' ? 'is a directory, not an image file' :
    e?.message ?? String(err);
  return new MemScopeError('io', `${path}: ${reason}`, { cause: err });
}
