/**
 * Several suites need the reference data set (real symbol tables and PDBs in shared/data/) and skip
 * themselves without it. This test makes its absence a failure, so a checkout or CI run without it
 * cannot pass by skipping them.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedDataDir } from './shared-data.js';

describe('reference data set', () => {
  it('is present beside the checkout, with the symbol tables and PDBs the suites use', () => {
    const dir = sharedDataDir();
    expect(dir, 'shared/data/ not found beside the repository (set MEMSCOPE_SHARED_DATA)').not.toBeNull();
    const isf = readdirSync(join(dir!, 'windows-symbols', 'ntkrnlmp.pdb')).filter((f) => f.endsWith('.json.xz'));
    expect(isf.length).toBe(213);
    expect(existsSync(join(dir!, 'pdb', 'CrashWithException.pdb'))).toBe(true);
  });
});
