import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BundledProfiles } from '../../engine/profile/bundled.js';
import { tinyIsf } from '../../engine/profile/isf-fixture.js';
import { runCli } from '../main.js';

const home = mkdtempSync(join(tmpdir(), 'memscope-profile-cli-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(['profile', '--home', home, ...argv], { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

const KEY = '641F55C592201DCC4F59FACC72EA54DA1'; // 10.0.19041.508

describe('memscope profile', () => {
  const bundled = new BundledProfiles().load(KEY);

  it('show --type _EPROCESS --format json has exactly the documented shape and the bundled offsets', async () => {
    const r = await cli('show', KEY.toLowerCase(), '--type', '_EPROCESS', '--format', 'json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { guid: string; age: number; build: string; types: Record<string, { size: number; fields: Record<string, { offset: number; type: string }> }>; symbols: Record<string, number> };
    expect(Object.keys(j)).toEqual(['guid', 'age', 'build', 'types', 'symbols']);
    expect([j.guid, j.age, j.build]).toEqual(['641F55C592201DCC4F59FACC72EA54DA', 1, '10.0.19041.508']);
    expect(Object.keys(j.types)).toEqual(['_EPROCESS']);
    const ep = j.types['_EPROCESS'];
    const src = bundled?.types['_EPROCESS'];
    expect(ep?.size).toBe(src?.size);
    expect(Object.keys(ep?.fields ?? {}).length).toBe(Object.keys(src?.fields ?? {}).length);
    expect(ep?.fields['ImageFileName']).toEqual({ offset: src?.fields['ImageFileName']?.offset, type: 'array[15] of unsigned char' });
    expect(ep?.fields['Pcb']?.type).toBe('_KPROCESS');
    expect(ep?.fields['Peb']?.type).toBe('pointer to _PEB');
    expect(ep?.fields['AccountingFolded']?.type).toMatch(/^bitfield\(1 @\d+\) unsigned long$/);
    expect(j.symbols['NtBuildNumber']).toBe(0xc11e90);
    expect(Object.keys(j.symbols).length).toBe(Object.keys(bundled?.symbols ?? {}).length);
  });

  it('list shows all bundled builds; show reports unknown keys and types clearly', async () => {
    const list = await cli('list', '--format', 'json');
    expect(list.code).toBe(0);
    const entries = JSON.parse(list.out) as { key: string; source: string; build?: string }[];
    expect(entries.filter((e) => e.source === 'bundled')).toHaveLength(213);
    expect(entries.find((e) => e.key === KEY)?.build).toBe('10.0.19041.508');

    const table = await cli('show', KEY, '--type', '_LIST_ENTRY');
    expect(table.out).toMatch(/^_LIST_ENTRY \(struct, size 0x10\) in 10\.0\.19041\.508\n/);
    expect(table.out).toMatch(/0x8\s+Blink\s+pointer to _LIST_ENTRY/);

    const noType = await cli('show', KEY, '--type', '_NOPE');
    expect([noType.code, noType.err]).toEqual([1, 'memscope: profile 10.0.19041.508: has no type _NOPE\n']);
    const unknown = await cli('show', '00000000000000000000000000000000' + 'F');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/profile 00000000000000000000000000000000F: is not bundled or cached/);
    const bad = await cli('show', 'xyz');
    expect([bad.code, bad.err]).toEqual([2, 'memscope: "xyz" is not a GUID+age key (32 hex digits of the GUID followed by the age in hex)\n']);
  });

  it('import saves an ISF into the cache, where list and show find it; bad files change nothing', async () => {
    const file = join(home, 'tiny.json');
    writeFileSync(file, JSON.stringify(tinyIsf()));
    const r = await cli('import', file, '--build', '10.0.99999.1', '--format', 'json');
    expect(r.err).toBe('');
    const summary = JSON.parse(r.out) as { key: string; kind: string; path: string };
    expect(summary.key).toBe('00112233445566778899AABBCCDDEEFF2');
    expect(summary.kind).toBe('isf');

    const entries = JSON.parse((await cli('list', '--format', 'json')).out) as { key: string; source: string; build?: string }[];
    expect(entries.find((e) => e.key === summary.key)).toMatchObject({ source: 'imported', build: '10.0.99999.1' });
    const shown = JSON.parse((await cli('show', summary.key, '--format', 'json', '--type', '_EPROCESS')).out) as { types: Record<string, { fields: Record<string, { offset: number; type: string }> }> };
    expect(shown.types['_EPROCESS']?.fields['Flags3']).toEqual({ offset: 0x460, type: 'bitfield(3 @1) unsigned long' });

    const broken = join(home, 'broken.json.gz');
    writeFileSync(broken, Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]));
    const b = await cli('import', broken);
    expect(b.code).toBe(1);
    expect(b.err).toMatch(/^memscope: .*broken\.json\.gz: (corrupt|truncated) gzip data/);
    const after = JSON.parse((await cli('list', '--format', 'json')).out) as unknown[];
    expect(after).toHaveLength(entries.length);
  });
});
