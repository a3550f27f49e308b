/**
 * Test support: fuzz cases for every contract method, derived from its zod `args` schema (through
 * zod's own JSON Schema export, so a method added to `requests` later is covered with no edit here),
 * and the oracle every door (service, Electron IPC, bridge) is held to: a typed error envelope with a
 * code from ERROR_CODES, or a result its schema accepts — never a throw, an `internal` error or a hang.
 * Cases are deterministic; the property-based ones come from fast-check under a fixed seed.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { z } from 'zod';
import { ERROR_CODES, EXPORT_TABLES, METHODS, requests, type Envelope, type Method } from '../../common/contract.js';
import { buildSample, type GroundTruth } from '../engine/sample/index.js';
import type { ContractService } from '../service/types.js';

export const FUZZ_SEED = Number(process.env['MEMSCOPE_FUZZ_SEED'] ?? 0x22f022);
/** fast-check runs per method and family; more with MEMSCOPE_FUZZ_CASES, fewer in CI. */
export const PROPERTY_RUNS = Number(process.env['MEMSCOPE_FUZZ_CASES'] ?? (process.env['CI'] ? 8 : 24));
/** Fewest cases any method may get at any door: a method whose schema yields fewer fails the test. */
export const MIN_CASES_PER_METHOD = 20;
/** A case not answered within this is a hang. */
export const CASE_TIMEOUT_MS = 5_000;
export const MIB = 1024 * 1024;
/** A door's test process (a 64 MiB sample open, vitest, 1 MiB and 1M-item cases) stays under this. */
export const PEAK_RSS_BOUND = 1024 * MIB;

export const FAMILIES = [
  'whole-args', 'wrong-type', 'missing', 'null', 'extra-field', 'huge-string', 'huge-array', 'deep-nesting',
  'unknown-enum', 'address', 'over-cap', 'path', 'id', 'odd-string', 'number-edge', 'property', 'frame',
] as const;
export type Family = (typeof FAMILIES)[number];

export interface FuzzCase {
  readonly method: string;
  readonly family: Family;
  readonly label: string;
  readonly args: unknown;
  /** The args as JSON text when JSON.stringify cannot write them (10,000-level nesting). */
  readonly wire?: string;
}

export interface FuzzContext {
  /** A session open on the sample image (session-bound methods reach real code). */
  readonly sessionId: string;
  readonly imagePath: string;
  readonly imageSize: number;
  /** A kernel VA the sample maps (the kernel base). */
  readonly address: string;
  /** The sandbox every path case points into or escapes from; a FIFO lives in it. */
  readonly sandbox: string;
  readonly fifo: string;
}

// ---------------------------------------------------------------------------------------------
// Schemas as JSON Schema (zod's public export): the walk below reads only what that format says.

interface Node {
  readonly type?: string | string[];
  readonly properties?: Record<string, Node>;
  readonly required?: string[];
  readonly additionalProperties?: unknown;
  readonly items?: Node;
  readonly maxItems?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly enum?: unknown[];
  readonly const?: unknown;
  readonly anyOf?: Node[];
  readonly oneOf?: Node[];
  readonly minimum?: number;
  readonly maximum?: number;
}

export function argsSchema(method: Method): Node {
  try {
    return z.toJSONSchema(requests[method].args, { io: 'input', unrepresentable: 'any' }) as Node;
  } catch {
    return {}; // a schema JSON Schema cannot say: the whole-args and property families still cover it
  }
}

const variants = (n: Node): Node[] => {
  const alts = n.oneOf ?? n.anyOf;
  return alts ? alts.filter((a) => a.type !== 'null') : [n];
};
const typeOf = (n: Node): string | undefined => (Array.isArray(n.type) ? n.type.find((t) => t !== 'null') : n.type);

const ADDRESS_NAME = /addr|offset|base|dtb|(^|[A-Z_])(va|pa)$/i;
const PATH_NAME = /path|file|dir|target|dest|out/i;
const LENGTH_NAME = /len|size|count|bytes|limit|max/i;
const isAddress = (name: string, n: Node): boolean => ADDRESS_NAME.test(name) || (n.pattern ?? '').includes('0x');
const isPath = (name: string, n: Node): boolean => typeOf(n) === 'string' && PATH_NAME.test(name);
const isId = (name: string, n: Node): boolean => typeOf(n) === 'string' && /id$/i.test(name);

/** A valid value of a node (for a field named `name` of `method`), aimed at real code: the open session, a mapped address. */
function sample(n: Node, name: string, method: string, ctx: FuzzContext): unknown {
  if (n.const !== undefined) return n.const;
  if (n.enum) return n.enum[0];
  const alts = n.oneOf ?? n.anyOf;
  if (alts) return sample(variants(n)[0] ?? {}, name, method, ctx);
  switch (typeOf(n)) {
    case 'object': {
      const o: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(n.properties ?? {})) o[k] = sample(v, k, method, ctx);
      return o;
    }
    case 'array': return [];
    case 'boolean': return false;
    case 'null': return null;
    case 'number': case 'integer': return Math.max(n.minimum ?? 0, Math.min(n.maximum ?? 16, 16));
    case 'string': {
      if (/^session/i.test(name)) return ctx.sessionId;
      if (isAddress(name, n)) return ctx.address;
      if (isPath(name, n)) return isOpenTarget(method) ? ctx.imagePath : join(ctx.sandbox, 'export', 'out.txt');
      if (name === 'type') return '_EPROCESS';
      const plain = 'fuzz-id';
      if (!n.pattern || new RegExp(n.pattern).test(plain)) return plain;
      return fc.sample(fc.stringMatching(new RegExp(n.pattern)).filter((s) => s.length >= (n.minLength ?? 0) && s.length <= (n.maxLength ?? 64)), { seed: FUZZ_SEED, numRuns: 1 })[0];
    }
    default: return {};
  }
}

type Path = readonly (string | number)[];
function setAt(base: unknown, path: Path, value: unknown, remove = false): unknown {
  if (path.length === 0) return value;
  const copy: Record<string | number, unknown> = Array.isArray(base) ? [...base] as never : { ...(base as object) };
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  if (rest.length === 0 && remove) delete copy[head];
  else copy[head] = setAt(copy[head], rest, value, remove);
  return copy;
}

const DEEP = 10_000;
const DEEP_MARK = '__memscope_fuzz_deep__';
function deepArray(): unknown { let v: unknown = []; for (let i = 0; i < DEEP; i++) v = [v]; return v; }
function deepObject(): unknown { let v: unknown = {}; for (let i = 0; i < DEEP; i++) v = { a: v }; return v; }
const deepArrayText = '['.repeat(DEEP + 1) + ']'.repeat(DEEP + 1);
const deepObjectText = '{"a":'.repeat(DEEP) + '{}' + '}'.repeat(DEEP);

const HUGE_STRING = 'A'.repeat(MIB + 1);
const HUGE_ARRAY = (): unknown[] => new Array<string>(200_000).fill('0x10');

const isOpenTarget = (method: string): boolean => /^(open|load|pick)/i.test(method);

/**
 * Device paths, traversal and pipes for a path-like field. Open targets get every one (they are only
 * ever opened read-only). Export targets get only those safe to hand a writer on this machine (tests
 * may run as root): devices that discard, the FIFO, the evidence itself, directories, and traversal
 * out of the export folder into the sandbox, where a file that escaped is seen.
 */
export function hostilePaths(ctx: FuzzContext, method: string): string[] {
  const escapes = [
    join(ctx.sandbox, 'export', '..', 'escaped.txt'), `${ctx.sandbox}/export/%2e%2e/escaped.txt`, `${ctx.sandbox}/export/..\\escaped.txt`,
    ctx.fifo, ctx.imagePath, join(ctx.sandbox, 'image'), ctx.sandbox, `${join(ctx.sandbox, 'export', 'x')}\u0000.csv`, `${ctx.sandbox}/${'a'.repeat(4097)}`,
    '/dev/null', '/dev/zero', '/dev/full',
  ];
  if (!isOpenTarget(method)) return escapes;
  return [
    ...escapes, '/dev/stdin', '/dev/random', '/proc/self/mem', '/proc/kcore', '/proc/self/fd/0', '/sys/kernel/notes',
    '\\\\.\\PhysicalDrive0', '\\\\.\\pmem', '\\\\.\\PhysicalMemory', '\\\\?\\GLOBALROOT\\Device\\PhysicalMemory', 'CON', 'NUL:', '\\\\server\\share\\img.raw',
    '../../etc/shadow', '/etc/shadow', '..', '.', '/', 'file:///etc/passwd', '~/.ssh/id_rsa', 'img\u0000.raw', ' ', 'a'.repeat(4097), `${'../'.repeat(64)}etc/passwd`,
  ];
}

function addresses(ctx: FuzzContext): unknown[] {
  const past = (n: number) => `0x${n.toString(16)}`;
  return [
    '-0x10', '0X10', '0x10 ', ' 0x10', '0x', '0xg', '0x-1', '16', '1e3', 16, -16, 2 ** 53, '0x0000000000000010', '0x00000000000000000010',
    '0x1000000000000', '0x0000800000000000', '0xffff7fffffffffff', '0xffffffffffffffff', '0x10000000000000000', '0xfffff80000000000',
    past(ctx.imageSize), past(ctx.imageSize + 0x1000), past(ctx.imageSize * 16), '0xfff', '0x0',
  ];
}

const IDS = ['..', '../x', '__proto__', 'constructor', 'hasOwnProperty', 'toString', 'valueOf', 'no-such-id', 'a'.repeat(64), 'with space', '\u0000', 'ÿ'];
const ODD_STRINGS = ['', '\u0000', 'a\nb', '\ud800', '🙂'.repeat(100), '%s%n%x', '<script>alert(1)</script>', '${process.exit(1)}', '\\'];
const NUMBERS = [-1, -0, 0.5, 2 ** 32, 2 ** 48, 2 ** 53, Number.MAX_VALUE, -Number.MAX_VALUE, '1', Number.MAX_SAFE_INTEGER + 2];

/** Arguments the method's schema accepts, aimed at the open session and the sample's kernel base. */
export const validArgs = (method: Method, ctx: FuzzContext): unknown => sample(argsSchema(method), '', method, ctx);

/** Every deterministic case of one method. */
export function schemaCases(method: Method, ctx: FuzzContext): FuzzCase[] {
  const root = argsSchema(method);
  const base = sample(root, '', method, ctx);
  const out: FuzzCase[] = [];
  const add = (family: Family, label: string, args: unknown, wire?: string) => out.push({ method, family, label, args, ...(wire === undefined ? {} : { wire }) });

  // the whole argument
  for (const v of [undefined, null, 0, -1, 'args', true, [], [base], new Array(100_000).fill(0)]) add('whole-args', `args = ${describeValue(v)}`, v);
  add('deep-nesting', 'args nested 10,000 arrays deep', deepArray(), deepArrayText);
  add('deep-nesting', 'args nested 10,000 objects deep', deepObject(), deepObjectText);
  add('huge-string', 'args a 1 MiB string', HUGE_STRING);
  add('extra-field', 'args with 20,000 extra keys', Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i])));
  for (const key of ['__proto__', 'constructor', 'prototype']) {
    const polluted = JSON.parse(`{"${key}":{"polluted":true,"sessionId":"x","path":"/etc/shadow"}}`) as object;
    add('extra-field', `args with own ${key}`, Object.assign(JSON.parse(JSON.stringify(base ?? {})) as object, polluted));
  }

  const walk = (n: Node, value: unknown, path: Path, name: string, baseHere: unknown): void => {
    const alts = variants(n);
    if (alts.length > 1 || (n.oneOf ?? n.anyOf)) {
      alts.forEach((alt, i) => {
        const b = setAt(baseHere, path, sample(alt, name, method, ctx));
        walk({ ...alt }, sample(alt, name, method, ctx), path, name, i === 0 ? baseHere : b);
      });
      if (path.length) fieldCases(n, path, name, baseHere);
      return;
    }
    if (path.length) fieldCases(n, path, name, baseHere);
    if (typeOf(n) === 'object') {
      add('extra-field', `${at(path)} with an extra field`, setAt(baseHere, [...path, 'zzExtra'], 1));
      for (const [k, child] of Object.entries(n.properties ?? {})) walk(child, (value as Record<string, unknown>)?.[k], [...path, k], k, baseHere);
    }
    if (typeOf(n) === 'array' && n.items) fieldCases(n.items, [...path, 0], name, setAt(baseHere, path, [sample(n.items, name, method, ctx)]));
  };

  const fieldCases = (n: Node, path: Path, name: string, b: unknown) => {
    const f = at(path);
    const set = (family: Family, label: string, v: unknown) => add(family, `${f} ${label}`, setAt(b, path, v));
    for (const v of [42, true, 'a string', [], {}, [1, 2]]) set('wrong-type', `= ${describeValue(v)}`, v);
    set('null', '= null', null);
    add('missing', `${f} missing`, setAt(b, path, undefined, true));
    set('huge-string', '= a 1 MiB string', HUGE_STRING);
    set('huge-array', '= 200,000 items', HUGE_ARRAY());
    const mark = JSON.stringify(setAt(b, path, DEEP_MARK));
    add('deep-nesting', `${f} nested 10,000 deep`, setAt(b, path, deepArray()), mark.replace(JSON.stringify(DEEP_MARK), deepArrayText));
    const t = typeOf(n);
    const options = n.enum ?? (n.const !== undefined ? [n.const] : null);
    if (options) {
      for (const v of ['zz-unknown', String(options[0]).toUpperCase(), `${String(options[0])} `, '', '__proto__', 'malfind']) set('unknown-enum', `= ${describeValue(v)}`, v);
    }
    if (t === 'string') {
      if (n.maxLength !== undefined) {
        const s = String(sample(n, name, method, ctx) ?? 'a');
        set('over-cap', `one over its ${n.maxLength}-character cap`, s.padEnd(n.maxLength + 1, s.at(-1) ?? 'a'));
      }
      if (isAddress(name, n)) for (const v of addresses(ctx)) set('address', `= ${describeValue(v)}`, v);
      if (isPath(name, n)) for (const v of hostilePaths(ctx, method)) set('path', `= ${describeValue(v)}`, v);
      if (isId(name, n)) for (const v of IDS) set('id', `= ${describeValue(v)}`, v);
      for (const v of ODD_STRINGS) set('odd-string', `= ${describeValue(v)}`, v);
    }
    if (t === 'number' || t === 'integer' || LENGTH_NAME.test(name)) {
      for (const v of NUMBERS) set('number-edge', `= ${describeValue(v)}`, v);
      if (n.maximum !== undefined) set('over-cap', `one over its maximum ${n.maximum}`, n.maximum + 1);
    }
    if (t === 'array' && n.maxItems !== undefined) {
      const item = n.items ? sample(n.items, name, method, ctx) : 0;
      set('over-cap', `${n.maxItems + 1} items (cap ${n.maxItems})`, new Array(n.maxItems + 1).fill(item));
    }
  };

  walk(root, base, [], '', base);
  return out;
}

/** fast-check's cases for one method: arbitrary whole args, and arbitrary values in each top-level field. */
export function propertyCases(method: Method, ctx: FuzzContext, runs = PROPERTY_RUNS): FuzzCase[] {
  const root = argsSchema(method);
  const base = sample(root, '', method, ctx) as Record<string, unknown>;
  const seed = FUZZ_SEED ^ [...method].reduce((h, c) => (h * 31 + c.charCodeAt(0)) | 0, 0);
  const anything = fc.jsonValue({ maxDepth: 4 });
  const out: FuzzCase[] = fc.sample(anything, { seed, numRuns: runs }).map((v, i) => ({ method, family: 'property', label: `fc.jsonValue #${i} (seed ${seed})`, args: v }));
  for (const key of Object.keys(root.properties ?? {})) {
    fc.sample(fc.oneof(anything, fc.string({ unit: 'binary' }), fc.constantFrom(...hostilePaths(ctx, method), ...IDS)), { seed: seed + key.length, numRuns: runs })
      .forEach((v, i) => out.push({ method, family: 'property', label: `${key} = fc #${i} (seed ${seed + key.length})`, args: { ...base, [key]: v } }));
  }
  return out;
}

/** Every case of every method the contract has now. */
export function allCases(ctx: FuzzContext): FuzzCase[] {
  return METHODS.flatMap((m) => [...schemaCases(m, ctx), ...propertyCases(m, ctx)]);
}

const namesFifo = (c: FuzzCase, fifo: string): boolean => {
  try { return (c.wire ?? JSON.stringify(c.args) ?? '').includes(fifo); } catch { return false; }
};

const at = (path: Path): string => (path.length ? path.join('.') : 'args');
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return v.length > 40 ? `${JSON.stringify(v.slice(0, 20))}… (${v.length} chars)` : JSON.stringify(v);
  if (Array.isArray(v)) return v.length > 4 ? `[${v.length} items]` : `[${v.map(describeValue).join(', ')}]`;
  if (v === undefined) return 'undefined';
  if (typeof v === 'object' && v !== null) return `{${Object.keys(v).slice(0, 3).join(',')}}`;
  return String(v);
}

// ---------------------------------------------------------------------------------------------
// The oracle

/** Why an answer is not acceptable, or null: a typed error (not `internal`), or a result its schema accepts. */
export function envelopeProblem(method: string, answer: unknown): string | null {
  if (typeof answer !== 'object' || answer === null || typeof (answer as { ok?: unknown }).ok !== 'boolean') return `not an envelope: ${describeValue(answer)}`;
  const e = answer as Envelope<unknown>;
  if (e.ok) {
    if (!(METHODS as string[]).includes(method)) return 'ok for an unknown method';
    const r = requests[method as Method].result.safeParse(e.value);
    return r.success ? null : `result does not match its schema: ${r.error.issues[0]?.message ?? ''}`;
  }
  const err = e.error as { code?: unknown; message?: unknown } | undefined;
  if (!err || !(ERROR_CODES as readonly unknown[]).includes(err.code)) return `error code ${String(err?.code)} not in ERROR_CODES`;
  if (err.code === 'internal') return `untyped failure: ${String(err.message)}`;
  if (typeof err.message !== 'string' || err.message.length === 0) return 'error without a message';
  if (err.message.length > 8192) return `error message of ${err.message.length} characters (echoes its input)`;
  return null;
}

export interface DoorStats {
  readonly door: string;
  readonly perMethod: Map<string, { cases: number; ok: number; errors: Map<string, number> }>;
  readonly perFamily: Map<string, number>;
  /** ms spent per family (where the run's time goes). */
  readonly familyMs: Map<string, number>;
  readonly problems: string[];
  hangs: number;
  crashes: number;
  peakRss: number;
  ms: number;
}

export const newStats = (door: string): DoorStats => ({ door, perMethod: new Map(), perFamily: new Map(), familyMs: new Map(), problems: [], hangs: 0, crashes: 0, peakRss: process.memoryUsage.rss(), ms: 0 });

/**
 * Run cases one after another through `send`, each under CASE_TIMEOUT_MS, and hold every answer to
 * the oracle. A session a case opened is closed through `cleanup` (so it cannot leak between cases).
 */
export async function runCases<C extends FuzzCase>(
  stats: DoorStats, cases: readonly C[], send: (c: C) => Promise<unknown>,
  opts: { readonly fifo?: string; readonly cleanup?: (answer: unknown) => Promise<void> } = {},
): Promise<void> {
  const { fifo, cleanup } = opts;
  const t0 = performance.now();
  for (const c of cases) {
    const valve = fifo !== undefined && namesFifo(c, fifo) ? fifoValve(fifo) : null;
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<'hang'>((r) => { timer = setTimeout(() => r('hang'), CASE_TIMEOUT_MS); });
    let answer: unknown;
    const start = performance.now();
    try {
      answer = await Promise.race([send(c), hang]);
    } catch (e) {
      answer = undefined;
      stats.crashes++;
      stats.problems.push(`${stats.door} ${c.method} [${c.family}] ${c.label}: threw ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      clearTimeout(timer);
      valve?.kill();
    }
    if (performance.now() - start >= CASE_TIMEOUT_MS) answer = 'hang'; // a synchronous block never lets the timer win
    const m = stats.perMethod.get(c.method) ?? { cases: 0, ok: 0, errors: new Map<string, number>() };
    stats.perMethod.set(c.method, m);
    m.cases++;
    stats.perFamily.set(c.family, (stats.perFamily.get(c.family) ?? 0) + 1);
    stats.familyMs.set(c.family, (stats.familyMs.get(c.family) ?? 0) + performance.now() - start);
    if (answer === 'hang') {
      stats.hangs++;
      stats.problems.push(`${stats.door} ${c.method} [${c.family}] ${c.label}: no answer in ${CASE_TIMEOUT_MS} ms`);
    } else if (answer !== undefined) {
      const problem = envelopeProblem(c.method, answer);
      if (problem) stats.problems.push(`${stats.door} ${c.method} [${c.family}] ${c.label}: ${problem}`);
      const e = answer as Envelope<unknown>;
      if (e.ok) m.ok++;
      else m.errors.set(e.error?.code ?? '?', (m.errors.get(e.error?.code ?? '?') ?? 0) + 1);
      if (cleanup) await cleanup(answer);
    }
    stats.peakRss = Math.max(stats.peakRss, process.memoryUsage.rss());
  }
  stats.ms += performance.now() - t0;
}

/** The one-line summaries the test prints: per method, per family, and the door's totals. */
export function summary(stats: DoorStats): string {
  const lines = [...stats.perMethod].map(([method, m]) => {
    const errs = [...m.errors].map(([code, n]) => `${code} ${n}`).join(', ');
    return `  ${stats.door} ${method.padEnd(18)} ${String(m.cases).padStart(5)} cases: ok ${m.ok}${errs ? `, ${errs}` : ''}`;
  });
  const total = [...stats.perMethod.values()].reduce((s, m) => s + m.cases, 0);
  lines.push(`  ${stats.door} families: ${[...stats.perFamily].map(([f, n]) => `${f} ${n}`).join(', ')}`);
  if (process.env['MEMSCOPE_FUZZ_TIMES']) lines.push(`  ${stats.door} ms per family: ${[...stats.familyMs].map(([f, ms]) => `${f} ${ms.toFixed(0)}`).join(', ')}`);
  lines.push(`  ${stats.door} total ${total} cases in ${(stats.ms / 1000).toFixed(1)} s: crashes ${stats.crashes}, hangs ${stats.hangs}, problems ${stats.problems.length}, peak RSS ${(stats.peakRss / MIB).toFixed(0)} MiB`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Fixture: a sample image in a sandbox, a FIFO beside it, and what the sandbox held

export interface Sandbox {
  readonly root: string;
  readonly imagePath: string;
  readonly fifo: string;
  readonly truth: GroundTruth;
  remove(): void;
}

export async function makeSandbox(prefix: string): Promise<Sandbox> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  for (const d of ['image', 'export', 'cwd']) mkdirSync(join(root, d));
  const imagePath = join(root, 'image', 'sample.raw');
  const truth = await buildSample({ build: '19041', format: 'raw', out: imagePath, sizeMiB: 64, seed: 22, processes: 4 });
  const fifo = join(root, 'pipe');
  execFileSync('mkfifo', [fifo]);
  // a relative path a case names lands in the sandbox, where a file written there is seen
  const cwd = process.cwd();
  process.chdir(join(root, 'cwd'));
  return {
    root, imagePath, fifo, truth,
    remove: () => { process.chdir(cwd); rmSync(root, { recursive: true, force: true }); },
  };
}

/** The fuzz context of a session the door opened on the sandbox's image (the answer of its openSession). */
export function contextOf(box: Sandbox, opened: unknown): FuzzContext {
  const e = opened as Envelope<{ sessionId: string; source: { size: number } }>;
  if (!e.ok) throw new Error(`the sample did not open: ${JSON.stringify(e)}`);
  return { sessionId: e.value.sessionId, imagePath: box.imagePath, imageSize: e.value.source.size, address: box.truth.kernelBase, sandbox: box.root, fifo: box.fifo };
}

/**
 * Run each table's plugin to completion in the session, so exportTable and the replaying startRun
 * cases reach the export and replay code instead of stopping at "not run yet".
 */
export async function completeTables(service: ContractService, sessionId: string): Promise<void> {
  for (const plugin of EXPORT_TABLES) {
    let runId = '';
    let off = (): void => undefined;
    const done = new Promise<void>((resolve) => { off = service.onEvent((e) => { if (e.type === 'done' && e.runId === runId) resolve(); }); });
    const r = await service.handle('startRun', { sessionId, request: { plugin } });
    if (!r.ok) throw new Error(r.error.message);
    runId = (r.value as { runId: string }).runId; // set before the run's first event (the service waits a turn)
    await done;
    off();
  }
}

/** Every file under `dir` with its size and mtime, to tell what a run wrote. */
export function listFiles(dir: string, out = new Map<string, string>()): Map<string, string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) listFiles(p, out);
    else out.set(p, `${st.size}:${st.mtimeMs}`);
  }
  return out;
}

/** Files added or changed between two listings. */
export const changedFiles = (before: Map<string, string>, after: Map<string, string>): string[] =>
  [...after].filter(([p, v]) => before.get(p) !== v).map(([p]) => p);

/** A full garbage collection (the flag set at run time: vitest's workers start without --expose-gc). */
export function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/**
 * A writer that opens the FIFO once the hang limit has passed, armed for each case that names the
 * FIFO: an open(2) blocked on it (a hang the test must report, not suffer, as it blocks the whole
 * thread) then returns, the case has taken longer than the limit and is counted as a hang.
 */
function fifoValve(fifo: string): ChildProcess {
  // O_RDWR on a FIFO never blocks and stands in for both ends: a blocked reader or writer returns
  return spawn('sh', ['-c', `sleep ${CASE_TIMEOUT_MS / 1000 + 1}; exec 3<>'${fifo}'; sleep 1`], { stdio: 'ignore' });
}
