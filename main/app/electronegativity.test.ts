// Electronegativity (Doyensec's static checker for Electron apps; it parses TypeScript) over a copy of the
// project's sources: no finding above INFORMATIONAL, and each exclusion, inline suppression, remaining
// finding and CSP remark justified on one line of main/app/electronegativity-justified.txt. The policy
// the CSP check cannot see (computed in common/csp.ts, sent as a header) goes through the same
// CSP evaluator here. A planted insecure window proves the scan finds what it must.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentSecurityPolicy } from '../../common/csp.js';

interface Finding {
  readonly id: string;
  readonly file: string;
  readonly location: { readonly line: number; readonly column: number };
  readonly severity: { readonly name: string; readonly value: number };
  readonly description: string;
}
interface EngResult { readonly globalChecks: number; readonly atomicChecks: number; readonly errors: readonly { file: string; message: string; tolerable: boolean }[]; readonly issues: readonly Finding[] }
type Run = (options: { input: string; isRelative: boolean; excludeFromScan: string[] }) => Promise<EngResult>;
interface CspFinding { readonly severity: number; readonly directive: string; readonly description: string }
interface CspModule {
  CspParser: new (raw: string) => { csp: unknown };
  CspEvaluator: new (csp: unknown, version: unknown) => { evaluate(): CspFinding[] };
  Version: { CSP3: unknown };
  severities: Record<string, number>;
}

const require = createRequire(import.meta.url);
const electronegativity = require('@doyensec/electronegativity') as Run;
const cspEvaluator = require('@doyensec/csp-evaluator') as CspModule;

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const justifiedFile = join(repo, 'main/app/electronegativity-justified.txt');
/** What is not the project's source: dependencies, builds, caches, screenshots, packages. */
const notSource = new Set(['node_modules', 'dist', '.cache', '.git', 'release', 'screenshots']);

interface Justified { readonly kind: 'exclude' | 'disabled' | 'finding' | 'csp'; readonly id: string; readonly file: string | null }

function justifications(): Justified[] {
  return readFileSync(justifiedFile, 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).map((line) => {
    const m = /^(exclude|disabled|finding|csp) (\S+)(?: (\S+))? — \S.*$/.exec(line);
    if (!m) throw new Error(`electronegativity-justified.txt: not "<kind> <id> [file] — why": ${line}`);
    return { kind: m[1] as Justified['kind'], id: m[2]!, file: m[3] ?? null };
  });
}

let scratch = '';
let result: EngResult;
const justified = justifications();

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    notSource.has(e.name) ? [] : e.isDirectory() ? sourceFiles(join(dir, e.name)) : /\.(ts|tsx|js|mjs|cjs|html)$/.test(e.name) ? [join(dir, e.name)] : []);
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'memscope-eng-'));
  cpSync(repo, join(scratch, 'project'), { recursive: true, filter: (src) => !notSource.has(src.split(sep).pop()!) });
  result = await electronegativity({
    input: join(scratch, 'project'),
    isRelative: true,
    excludeFromScan: justified.filter((j) => j.kind === 'exclude').map((j) => j.id),
  });
}, 300_000);

afterAll(() => {
  if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
});

describe('electronegativity over the project', () => {
  it('parses every source file and runs its checks', () => {
    expect(result.errors.filter((e) => !e.tolerable)).toEqual([]);
    expect(result.atomicChecks).toBeGreaterThan(30);
    expect(result.globalChecks).toBeGreaterThan(2);
  });

  it('finds nothing above INFORMATIONAL, and each remaining finding is justified', () => {
    const line = (f: Finding) => `${f.id} ${f.severity.name} ${f.file}:${f.location.line} ${f.description}`;
    console.log(`electronegativity: ${result.atomicChecks} atomic + ${result.globalChecks} global checks, ${result.issues.length} finding(s): ${result.issues.map(line).join('; ')}`);
    expect(result.issues.filter((f) => f.severity.value > 0).map(line)).toEqual([]);
    const unjustified = result.issues.filter((f) => !justified.some((j) => j.kind === 'finding' && j.id === f.id && j.file === f.file));
    expect(unjustified.map(line)).toEqual([]);
    const stale = justified.filter((j) => j.kind === 'finding' && !result.issues.some((f) => f.id === j.id && f.file === j.file));
    expect(stale).toEqual([]);
  });

  it('every inline eng-disable in the sources is justified, and every justified one exists', () => {
    const inline: string[] = [];
    for (const file of sourceFiles(repo)) {
      if (file === fileURLToPath(import.meta.url)) continue;
      for (const m of readFileSync(file, 'utf8').matchAll(/eng-disable ([A-Z_]+)/g)) inline.push(`${m[1]!} ${relative(repo, file).split(sep).join('/')}`);
    }
    const listed = justified.filter((j) => j.kind === 'disabled').map((j) => `${j.id} ${j.file ?? ''}`);
    expect([...new Set(inline)].sort()).toEqual([...listed].sort());
  });

  it("the renderer's CSP (app:// and the bridge's) passes the same CSP evaluator: nothing weak, each remark justified", () => {
    const remarks = new Set<string>();
    for (const policy of [contentSecurityPolicy(), contentSecurityPolicy(['ws://127.0.0.1:5555'])]) {
      const findings = new cspEvaluator.CspEvaluator(new cspEvaluator.CspParser(policy).csp, cspEvaluator.Version.CSP3).evaluate();
      // HIGH, SYNTAX, MEDIUM make electronegativity call a policy weak; "maybe" remarks and infos need a reason.
      expect(findings.filter((f) => f.severity <= cspEvaluator.severities['MEDIUM']!)).toEqual([]);
      for (const f of findings) remarks.add(f.directive);
    }
    const listed = justified.filter((j) => j.kind === 'csp').map((j) => j.id);
    expect([...remarks].sort()).toEqual([...listed].sort());
  });

  it('reports a planted insecure window above INFORMATIONAL (the scan is not blind to TypeScript)', async () => {
    const planted = join(scratch, 'planted');
    mkdirSync(planted, { recursive: true });
    writeFileSync(join(planted, 'package.json'), JSON.stringify({ name: 'planted', devDependencies: { electron: '^45.0.0' } }));
    writeFileSync(join(planted, 'window.ts'), `import { BrowserWindow } from 'electron';
export const open = (url: string): BrowserWindow => {
  const w: BrowserWindow = new BrowserWindow({ webPreferences: { nodeIntegration: true, contextIsolation: false, sandbox: false } });
  void w.loadURL(url);
  return w;
};
`);
    const bad = await electronegativity({ input: planted, isRelative: true, excludeFromScan: ['AvailableSecurityFixesGlobalCheck'] });
    const ids = bad.issues.filter((f) => f.severity.value > 0 && f.file === 'window.ts').map((f) => f.id);
    expect(ids).toEqual(expect.arrayContaining(['CONTEXT_ISOLATION_JS_CHECK', 'SANDBOX_JS_CHECK']));
  }, 120_000);
});
