/**
 * Electron's half of Export: the service renders the table (byte for byte the CLI's output) as a
 * `download`; main asks where to save it with the native save dialog and writes it there, refusing any
 * path that is an image open in this app (by path, symlink or hard link: evidence is never written).
 */
import { writeFile } from 'node:fs/promises';
import type { BrowserWindow, Dialog } from 'electron';
import type { Envelope, ExportResult } from '../../common/contract.js';
import { sameFile } from '../engine/util/same-file.js';

export type Download = Extract<ExportResult, { kind: 'download' }>;

export interface SaveDeps {
  readonly dialog: Pick<Dialog, 'showSaveDialog'>;
  readonly window: BrowserWindow;
  /** Paths of the images open in this app (never written). */
  readonly openImages: () => Iterable<string>;
}

const FILTERS: Readonly<Record<string, { name: string; extensions: string[] }>> = {
  'text/csv': { name: 'CSV', extensions: ['csv'] },
  'application/json': { name: 'JSON', extensions: ['json'] },
};

export async function saveDownload(download: Download, deps: SaveDeps): Promise<Envelope<ExportResult>> {
  const filter = FILTERS[download.mime.split(';')[0]!.trim()];
  const choice = await deps.dialog.showSaveDialog(deps.window, {
    title: 'Export',
    defaultPath: download.fileName,
    filters: filter ? [filter] : [],
    properties: ['showOverwriteConfirmation', 'createDirectory'],
  });
  if (choice.canceled || !choice.filePath) return { ok: true, value: { kind: 'cancelled' } };
  const path = choice.filePath;
  for (const image of deps.openImages()) {
    if (sameFile(path, image)) {
      return { ok: false, error: { code: 'io', message: `${path} is the open image ${image}; refusing to write the export over evidence` } };
    }
  }
  try {
    await writeFile(path, download.text, 'utf8');
  } catch (e) {
    return { ok: false, error: { code: 'io', message: `cannot write the export to ${path}: ${e instanceof Error ? e.message : String(e)}` } };
  }
  return { ok: true, value: { kind: 'saved', path } };
}
