/**
 * Test support: run LLVM's independent PDB reader (`llvm-pdbutil`, Debian package llvm-14) and parse
 * its text dump, so our reader is checked against a second implementation rather than itself.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const LLVM_PDBUTIL = process.env.LLVM_PDBUTIL ?? '/usr/lib/llvm-14/bin/llvm-pdbutil';

/** Throws (so tests fail, never silently skip) when llvm-pdbutil is missing. */
export function requireLlvmPdbutil(): string {
  if (!existsSync(LLVM_PDBUTIL)) {
    throw new Error(`llvm-pdbutil not found at ${LLVM_PDBUTIL}: install Debian package llvm-14 (apt-get install -y llvm-14) or set LLVM_PDBUTIL`);
  }
  return LLVM_PDBUTIL;
}

export function runPdbutil(pdbPath: string, ...dumpFlags: string[]): string {
  return execFileSync(requireLlvmPdbutil(), ['dump', ...dumpFlags, pdbPath], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
}

/** One llvm-pdbutil run for all sections a test needs, split by section title. */
export function dumpSections(pdbPath: string): { summary: string; types: string; publics: string; globals: string; sections: string } {
  const text = runPdbutil(pdbPath, '-summary', '-types', '-publics', '-globals', '-section-headers');
  const titles: Record<string, 'summary' | 'types' | 'publics' | 'globals' | 'sections'> = {
    'Summary': 'summary', 'Types (TPI Stream)': 'types', 'Public Symbols': 'publics', 'Global Symbols': 'globals', 'Section Headers': 'sections',
  };
  const out = { summary: '', types: '', publics: '', globals: '', sections: '' };
  const parts = text.split(/\n\s*(Summary|Types \(TPI Stream\)|Public Symbols|Global Symbols|Section Headers)\s*\n=+\n/);
  for (let i = 1; i + 1 < parts.length; i += 2) out[titles[parts[i]!]!] = parts[i + 1]!;
  for (const [k, v] of Object.entries(out)) if (!v) throw new Error(`llvm-pdbutil output for ${pdbPath} has no ${k} section`);
  return out;
}

export interface LlvmSummary { readonly guid: string; readonly age: number }

export function parseSummary(text: string): LlvmSummary {
  const guid = /GUID: \{([0-9A-F-]+)\}/.exec(text)?.[1];
  const age = /^\s*Age: (\d+)/m.exec(text)?.[1];
  if (!guid || !age) throw new Error('llvm-pdbutil summary without GUID/Age');
  return { guid: guid.replace(/-/g, ''), age: Number(age) };
}

export interface LlvmPublic { readonly name: string; readonly segment: number; readonly offset: number }

export function parsePublics(text: string): LlvmPublic[] {
  const out: LlvmPublic[] = [];
  const re = /S_PUB32 \[size = \d+\] `(.*)`\n\s+flags = [^\n]*addr = (\d+):(\d+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push({ name: m[1]!, segment: Number(m[2]), offset: Number(m[3]) });
  return out;
}

/** S_GDATA32 / S_LDATA32 records of `dump -globals` (kind, name, segment:offset). */
export function parseDataGlobals(text: string): (LlvmPublic & { kind: 'global' | 'local' })[] {
  const out: (LlvmPublic & { kind: 'global' | 'local' })[] = [];
  const re = /S_([GL])DATA32 \[size = \d+\] `(.*)`\n\s+type = [^\n]*addr = (\d+):(\d+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push({ kind: m[1] === 'G' ? 'global' : 'local', name: m[2]!, segment: Number(m[3]), offset: Number(m[4]) });
  return out;
}

/** Virtual address of each section, 1-based as in CodeView segment numbers (index 0 unused). */
export function parseSectionVAs(text: string): number[] {
  const out: number[] = [0];
  const re = /SECTION HEADER #(\d+)\n[^\n]*name\n[^\n]*virtual size\n\s*([0-9A-F]+) virtual address/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out[Number(m[1])] = Number.parseInt(m[2]!, 16);
  return out;
}

export interface LlvmMember { readonly leaf: string; readonly name: string; readonly type: number; readonly offset: number; readonly value?: string }

export interface LlvmType {
  readonly index: number;
  readonly leaf: string;
  readonly name?: string;
  readonly fieldList?: number;
  readonly size?: number;
  readonly forwardTo?: number;
  readonly fwdRef: boolean;
  readonly members: LlvmMember[];
  readonly bitfield?: { readonly type: number; readonly position: number; readonly length: number };
  readonly array?: { readonly size: number; readonly element: number };
  readonly referent?: number;
}

/** Parse `llvm-pdbutil dump -types` into records keyed by type index. */
export function parseTypes(text: string): Map<number, LlvmType> {
  const out = new Map<number, LlvmType>();
  const chunks = text.split(/\n(?=\s+0x[0-9A-F]+ \| LF_)/);
  for (const chunk of chunks) {
    const head = /^\s+0x([0-9A-F]+) \| (LF_[A-Z0-9_]+) \[size = \d+\](?: `(.*)`)?/.exec(chunk);
    if (!head) continue;
    const index = Number.parseInt(head[1]!, 16);
    const members: LlvmMember[] = [];
    const mre = /- (LF_MEMBER|LF_ENUMERATE) \[(?:name = `(.*?)`, Type = 0x([0-9A-F]+).*?, offset = (\d+)|(.*?) = (-?\d+))/g;
    for (let m = mre.exec(chunk); m; m = mre.exec(chunk)) {
      if (m[1] === 'LF_MEMBER') members.push({ leaf: m[1], name: m[2]!, type: Number.parseInt(m[3]!, 16), offset: Number(m[4]) });
      else members.push({ leaf: m[1]!, name: m[5]!, type: 0, offset: 0, value: m[6]! });
    }
    const fl = /field list: 0x([0-9A-F]+)/.exec(chunk)?.[1];
    const size = /sizeof (\d+)/.exec(chunk)?.[1];
    const fwd = /forward ref \(-> 0x([0-9A-F]+)\)/.exec(chunk)?.[1];
    const bf = /type = 0x([0-9A-F]+).*?, bit offset = (\d+), # bits = (\d+)/.exec(chunk);
    const arr = /size: (\d+), index type: .*?, element type: 0x([0-9A-F]+)/.exec(chunk);
    const ref = /referent = 0x([0-9A-F]+)/.exec(chunk)?.[1];
    out.set(index, {
      index,
      leaf: head[2]!,
      ...(head[3] !== undefined ? { name: head[3] } : {}),
      ...(fl ? { fieldList: Number.parseInt(fl, 16) } : {}),
      ...(size ? { size: Number(size) } : {}),
      ...(fwd ? { forwardTo: Number.parseInt(fwd, 16) } : {}),
      fwdRef: /options: [^\n]*forward ref/.test(chunk),
      members,
      ...(bf ? { bitfield: { type: Number.parseInt(bf[1]!, 16), position: Number(bf[2]), length: Number(bf[3]) } } : {}),
      ...(arr ? { array: { size: Number(arr[1]), element: Number.parseInt(arr[2]!, 16) } } : {}),
      ...(ref ? { referent: Number.parseInt(ref, 16) } : {}),
    });
  }
  return out;
}
