/**
 * Every `ipcMain.handle` of the app, generated from the contract's METHODS. Each handler first checks
 * the sender — our window's webContents, its main frame, on our app:// origin — then validates the
 * arguments with the contract's `parseArgs`, and only then acts: pickImage is main's open dialog,
 * pickFolder main's folder dialog, exportTable goes to the engine and its `download` through the save
 * dialog, exportEvidence goes to the engine only into a folder the folder dialog returned (or the
 * host's default), everything else is forwarded to the engine host as is. Images opened through here
 * are remembered so an export never lands on one.
 */
import type { BrowserWindow, Dialog, IpcMain, IpcMainInvokeEvent } from 'electron';
import { channelOf, METHODS, parseArgs, type ArgsOf, type Envelope, type Method, type ResultOf } from '../../common/contract.js';
import type { EngineClient } from './engine-client.js';
import { saveDownload } from './export-save.js';
import { isAppUrl } from './renderer-protocol.js';

export interface IpcDeps {
  readonly ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  readonly dialog: Pick<Dialog, 'showOpenDialog' | 'showSaveDialog'>;
  readonly window: BrowserWindow;
  readonly engine: Pick<EngineClient, 'request'>;
}

const IMAGE_FILTERS = [
  { name: 'Memory images', extensions: ['raw', 'mem', 'vmem', 'dmp', 'elf', 'core', 'img', 'bin', 'lime'] },
  { name: 'All files', extensions: ['*'] },
];

/** The one sender allowed: our window's top frame showing our renderer. */
export function isTrustedSender(event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>, window: BrowserWindow): boolean {
  if (window.isDestroyed() || event.sender !== window.webContents) return false;
  const frame = event.senderFrame;
  // the top frame of our window (a subframe, even same-origin, is refused), showing our origin
  return frame !== null && frame.parent === null && isAppUrl(frame.url);
}

const refused = (method: string): Envelope<never> => ({ ok: false, error: { code: 'invalid-request', message: `${method}: refused: not sent by the MemScope window` } });

export function registerIpc(deps: IpcDeps): () => void {
  const { window, engine, dialog } = deps;
  /** sessionId → image path, for sessions open now. */
  const openImages = new Map<string, string>();

  async function pickImage(): Promise<Envelope<ResultOf<'pickImage'>>> {
    const r = await dialog.showOpenDialog(window, { title: 'Open memory image', properties: ['openFile'], filters: IMAGE_FILTERS });
    return { ok: true, value: { path: r.canceled ? null : (r.filePaths[0] ?? null) } };
  }

  /** Folders the user chose in the folder dialog: the only places exportEvidence may write (besides the host's default). */
  const pickedFolders = new Set<string>();

  async function pickFolder(): Promise<Envelope<ResultOf<'pickFolder'>>> {
    const r = await dialog.showOpenDialog(window, { title: 'Export evidence into a new or empty folder', buttonLabel: 'Export here', properties: ['openDirectory', 'createDirectory', 'promptToCreate'] });
    const path = r.canceled ? null : (r.filePaths[0] ?? null);
    if (path !== null) pickedFolders.add(path);
    return { ok: true, value: { path } };
  }

  async function route(method: Method, args: unknown): Promise<Envelope<unknown>> {
    if (method === 'pickImage') return pickImage();
    if (method === 'pickFolder') return pickFolder();
    if (method === 'exportEvidence') {
      const out = (args as ArgsOf<'exportEvidence'>).out;
      // the renderer names a folder only by way of the dialog: a path it made up is refused
      if (out !== undefined && !pickedFolders.has(out)) return { ok: false, error: { code: 'invalid-request', message: `exportEvidence: ${out} was not chosen in the folder dialog; choose the folder with Export evidence…` } };
    }
    const response = await engine.request(method, args);
    if (!response.ok) return response;
    if (method === 'openSession' || method === 'openLive') {
      const info = response.value as ResultOf<'openSession'>;
      if (!info.source.live) openImages.set(info.sessionId, info.source.path);
    } else if (method === 'closeSession') {
      openImages.delete((args as { sessionId: string }).sessionId);
    } else if (method === 'exportTable') {
      const result = response.value as ResultOf<'exportTable'>;
      if (result.kind === 'download') return saveDownload(result, { dialog, window, openImages: () => openImages.values() });
    }
    return response;
  }

  for (const method of METHODS) {
    deps.ipcMain.handle(channelOf(method), async (event, raw: unknown) => {
      if (!isTrustedSender(event, window)) return refused(method);
      const parsed = parseArgs(method, raw);
      if (!parsed.ok) return parsed;
      return route(method, parsed.value.args);
    });
  }
  return () => {
    for (const method of METHODS) deps.ipcMain.removeHandler(channelOf(method));
  };
}
