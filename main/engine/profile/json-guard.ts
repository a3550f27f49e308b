import { formatError } from '../errors.js';

/**
 * Small readers for untrusted JSON (ISF / Rekall / bundled profiles). Each failure is a format error
 * naming the file and the JSON path of the missing or malformed piece.
 */

export type JsonObject = { readonly [key: string]: unknown };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function objectAt(v: unknown, what: string, path: string): JsonObject {
  if (!isObject(v)) throw formatError(what, `${path} is ${v === undefined ? 'missing' : 'not an object'}`);
  return v;
}

export function arrayAt(v: unknown, what: string, path: string): readonly unknown[] {
  if (!Array.isArray(v)) throw formatError(what, `${path} is ${v === undefined ? 'missing' : 'not an array'}`);
  return v;
}

export function stringAt(v: unknown, what: string, path: string): string {
  if (typeof v !== 'string') throw formatError(what, `${path} is ${v === undefined ? 'missing' : 'not a string'}`);
  return v;
}

/** A non-negative safe integer no larger than `max` (guards against absurd sizes/counts). */
export function uintAt(v: unknown, what: string, path: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw formatError(what, `${path} is ${v === undefined ? 'missing' : 'not a non-negative integer'}`);
  }
  if (v > max) throw formatError(what, `${path} = ${v} is implausibly large (max ${max})`);
  return v;
}

export function intAt(v: unknown, what: string, path: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
    throw formatError(what, `${path} is ${v === undefined ? 'missing' : 'not an integer'}`);
  }
  return v;
}

/** A record with no prototype, so names like "__proto__" or "constructor" are plain keys. */
export function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

export function entriesOf(o: JsonObject): [string, unknown][] {
  return Object.keys(o).map((k) => [k, o[k]]);
}
