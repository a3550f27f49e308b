/** Small helpers shared by scanner kinds (param validation, zero-copy Buffer views). */
import { usageError } from '../../errors.js';

/** A Buffer over the same memory (no copy) so native Buffer.indexOf can search it. */
export const asBuffer = (u8: Uint8Array): Buffer => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);

export function paramsObject(kind: string, params: unknown): Record<string, unknown> {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw usageError(`scanner '${kind}': params must be an object`);
  }
  return params as Record<string, unknown>;
}

export function optionalInt(kind: string, p: Record<string, unknown>, name: string, dflt: number, min: number, max: number): number {
  const v = p[name];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw usageError(`scanner '${kind}': ${name} must be an integer in ${min}..${max}, got ${String(v)}`);
  }
  return v;
}

export const isPowerOfTwo = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;
