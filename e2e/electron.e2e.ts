/**
 * The same flows through Playwright's Electron launcher, where an Electron binary exists. The binary is
 * looked up without `require('electron')` (which would try to download it): node_modules/electron/path.txt
 * names it once installed, ELECTRON_OVERRIDE_DIST_PATH points at a local build.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { _electron, type ElectronApplication } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelsMatchTruth, openAndStream, sortAndFilter, type Driver } from './flows.js';
import { cliBytes, ROOT, sample, type Sample } from './harness.js';

function electronBinary(): string | null {
  const dir = join(ROOT, 'node_modules', 'electron');
  const pathFile = join(dir, 'path.txt');
  const name = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : null;
  const override = process.env['ELECTRON_OVERRIDE_DIST_PATH'];
  const bin = override ? join(override, name ?? 'electron') : name ? join(dir, 'dist', name) : null;
  return bin && existsSync(bin) ? bin : null;
}

const binary = electronBinary();
const reason = process.env['ELECTRON_SKIP_BINARY_DOWNLOAD'] ? 'no Electron binary: ELECTRON_SKIP_BINARY_DOWNLOAD' : 'no Electron binary (node_modules/electron has none)';
if (!binary) console.log(`e2e electron: skipped, ${reason}`);

(binary ? describe : describe.skip)('Electron app (same flows)', () => {
  let app: ElectronApplication;
  let d: Driver;
  let s: Sample;
  const spec = 'electron';

  beforeAll(async () => {
    s = sample(19041, 'raw', 1024);
    app = await _electron.launch({ executablePath: binary!, args: [ROOT], env: { ...process.env, ELECTRON_DISABLE_SECURITY_WARNINGS: '1' } });
    const page = await app.firstWindow();
    d = {
      page,
      open: async (path) => {
        // The native open dialog answers with the image, as a user picking it would.
        await app.evaluate(({ dialog }, p) => {
          dialog.showOpenDialog = (async () => ({ canceled: false, filePaths: [p] })) as typeof dialog.showOpenDialog;
        }, path);
        await page.getByRole('button', { name: 'Open image' }).click();
      },
    };
  });
  afterAll(async () => { await app?.close(); });

  it('opens, streams and shows the header', () => openAndStream(d, s, spec));
  it('labels processes as the truth says', () => labelsMatchTruth(d, s, spec));
  it('sorts and filters', () => sortAndFilter(d, s, spec));
  it('exports through the save dialog what the CLI writes', async () => {
    // Electron saves through a dialog: answer it with a path, then compare the file with the CLI's bytes.
    const out = join(ROOT, '.cache', 'e2e', 'electron-export');
    await app.evaluate(({ dialog }, p) => {
      dialog.showSaveDialog = (async (...args: unknown[]) => {
        const opts = args[args.length - 1] as { defaultPath?: string };
        return { canceled: false, filePath: `${p}-${(opts.defaultPath ?? 'export').split('/').pop()}` };
      }) as typeof dialog.showSaveDialog;
    }, out);
    await d.page.getByRole('button', { name: 'Export CSV' }).click();
    const notice = d.page.locator('.notice-panel');
    await notice.waitFor();
    const saved = /Exported CSV to (.+)$/.exec((await notice.innerText()).split('\n')[0]!.trim())![1]!;
    expect(readFileSync(saved).equals(cliBytes(['psxview', s.path, '--format', 'csv']))).toBe(true);
  });
});
