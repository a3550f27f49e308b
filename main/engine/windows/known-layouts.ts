/**
 * The distinct x64 _EPROCESS layouts of the bundled kernel profiles, for the two places that must
 * guess before the build is known: DTB discovery's System-process scan and the heuristic profile.
 * One table, generated from the bundled profiles (`npm run profiles:layouts`, also run by
 * `npm run profiles:build`) into known-layouts.data.ts, so neither consumer keeps offsets by hand and
 * neither pays for decoding 213 profiles at run time. known-layouts.test.ts checks the generated file
 * against the bundled profiles and every table in ../shared/data/windows-symbols.
 */
import { formatError } from '../errors.js';
import type { ProfileData, StructDef } from '../profile/model.js';

/** The _EPROCESS fields the heuristic profile derives from memory. */
export const DERIVED_FIELDS = [
  'UniqueProcessId', 'ActiveProcessLinks', 'ImageFileName', 'InheritedFromUniqueProcessId',
  'CreateTime', 'ExitTime', 'Peb', 'ObjectTable', 'ActiveThreads',
] as const;
export type DerivedField = (typeof DERIVED_FIELDS)[number];

export interface KnownLayout {
  readonly label: string;
  /** Lowest and highest NtBuildNumber that runs a kernel with this layout. */
  readonly builds: readonly [number, number];
  readonly eprocess: Readonly<Record<DerivedField, number>>;
  /** _EPROCESS.Pcb + _KPROCESS.DirectoryTableBase: the process's CR3 from the object start. */
  readonly directoryTableBase: number;
  readonly handleTable: { readonly quotaProcess: number; readonly uniqueProcessId: number };
}

/**
 * Release names for labels only. 1909 (18363) and 20H2..22H2 (19042..19045) are enablement packages:
 * they run the 1903 / 2004 kernel (same ntkrnlmp.pdb) but report their own NtBuildNumber.
 */
const RELEASES: Readonly<Record<number, { readonly name: string; readonly alsoReports?: readonly number[] }>> = {
  7601: { name: 'Windows 7 SP1' },
  9600: { name: 'Windows 8.1' },
  14393: { name: 'Windows 10 1607' },
  17763: { name: 'Windows 10 1809' },
  18362: { name: 'Windows 10 1903/1909', alsoReports: [18363] },
  19041: { name: 'Windows 10 2004+', alsoReports: [19042, 19043, 19044, 19045] },
  20348: { name: 'Server 2022' },
  22000: { name: 'Windows 11 21H2' },
};

/** NtBuildNumber of an ntoskrnl version string ("10.0.19041.508" → 19041). */
export function ntBuildNumber(version: string, what: string): number {
  const m = /^\d+\.\d+\.(\d+)(\.\d+)?$/.exec(version);
  if (!m) throw formatError(what, `build string "${version}" is not major.minor.build[.revision]`);
  return Number(m[1]);
}

function offset(types: Readonly<Record<string, StructDef>>, struct: string, field: string, what: string): number {
  const f = types[struct]?.fields[field];
  if (!f) throw formatError(what, `has no ${struct}.${field}`);
  return f.offset;
}

function layoutOf(p: Pick<ProfileData, 'types'>, what: string): Omit<KnownLayout, 'label' | 'builds'> {
  const eprocess = {} as Record<DerivedField, number>;
  for (const field of DERIVED_FIELDS) eprocess[field] = offset(p.types, '_EPROCESS', field, what);
  return {
    eprocess,
    directoryTableBase: offset(p.types, '_EPROCESS', 'Pcb', what) + offset(p.types, '_KPROCESS', 'DirectoryTableBase', what),
    handleTable: {
      quotaProcess: offset(p.types, '_HANDLE_TABLE', 'QuotaProcess', what),
      uniqueProcessId: offset(p.types, '_HANDLE_TABLE', 'UniqueProcessId', what),
    },
  };
}

function labelOf(builds: readonly number[]): string {
  const names = [...new Set(builds.map((b) => RELEASES[b]?.name).filter((n): n is string => n !== undefined))];
  return names.length > 0 ? names.join(' / ') : `build ${builds.join('/')}`;
}

/**
 * The distinct x64 layouts of `profiles` (each with its ntoskrnl version string), oldest build first.
 * A layout must cover one contiguous run of builds: the heuristic picks a family by build range.
 */
export function deriveKnownLayouts(profiles: Iterable<Pick<ProfileData, 'pdb' | 'build' | 'pointerSize' | 'types'>>): KnownLayout[] {
  const groups = new Map<string, { layout: Omit<KnownLayout, 'label' | 'builds'>; builds: Set<number> }>();
  for (const p of profiles) {
    if (p.pointerSize !== 8) continue;
    const what = `profile ${p.pdb.name} ${p.pdb.guid}-${p.pdb.age}`;
    if (p.build === undefined) throw formatError(what, 'has no build string, so its layout has no build range');
    const layout = layoutOf(p, what);
    const key = JSON.stringify(layout);
    const group = groups.get(key) ?? { layout, builds: new Set<number>() };
    group.builds.add(ntBuildNumber(p.build, what));
    groups.set(key, group);
  }
  const out = [...groups.values()].map(({ layout, builds }) => {
    const own = [...builds].sort((a, b) => a - b);
    const reported = own.flatMap((b) => [b, ...(RELEASES[b]?.alsoReports ?? [])]);
    return { label: labelOf(own), builds: [Math.min(...reported), Math.max(...reported)] as const, ...layout };
  }).sort((a, b) => a.builds[0] - b.builds[0]);
  for (let i = 1; i < out.length; i++) {
    const prev = out[i - 1] as KnownLayout, cur = out[i] as KnownLayout;
    if (cur.builds[0] <= prev.builds[1]) {
      throw formatError('bundled profiles', `layouts "${prev.label}" (${prev.builds.join('..')}) and "${cur.label}" (${cur.builds.join('..')}) overlap in build range`);
    }
  }
  return out;
}

/** The text of known-layouts.data.ts for `layouts` (what the generator writes and the test compares). */
export function renderKnownLayouts(layouts: readonly KnownLayout[]): string {
  const h = (n: number) => `0x${n.toString(16)}`;
  const rows = layouts.map((l) => [
    '  {',
    `    label: '${l.label.replace(/[\\']/g, (c) => `\\${c}`)}', builds: [${l.builds[0]}, ${l.builds[1]}],`,
    `    eprocess: { ${DERIVED_FIELDS.map((f) => `${f}: ${h(l.eprocess[f])}`).join(', ')} },`,
    `    directoryTableBase: ${h(l.directoryTableBase)},`,
    `    handleTable: { quotaProcess: ${h(l.handleTable.quotaProcess)}, uniqueProcessId: ${h(l.handleTable.uniqueProcessId)} },`,
    '  },',
  ].join('\n'));
  return [
    '// Generated by `npm run profiles:layouts` (scripts/build-known-layouts.ts) from the bundled profiles.',
    '// Do not edit: known-layouts.test.ts fails when this differs from what the profiles say.',
    "import type { KnownLayout } from './known-layouts.js';",
    '',
    'export const KNOWN_LAYOUTS: readonly KnownLayout[] = [',
    ...rows,
    '];',
    '',
  ].join('\n');
}

export { KNOWN_LAYOUTS } from './known-layouts.data.js';
