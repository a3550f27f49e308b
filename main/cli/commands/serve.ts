/**
 * `memscope serve [image] [--port N]`: the browser bridge. Serves the built renderer (dist/renderer/)
 * on 127.0.0.1 and the contract over a WebSocket; prints exactly one line, the URL to open with its
 * per-run token, then nothing else on stdout (stderr: a line when a client is dropped or refused,
 * never the token). Image-only (never live). Runs until SIGINT / SIGTERM, then cancels scans and
 * closes every session.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { usageError } from '../../engine/errors.js';
import { ImageFile } from '../../engine/sources/image-file.js';
import { bridgeHost } from '../../bridge/host.js';
import { startBridge } from '../../bridge/server.js';
import { rendererDir } from '../../bridge/static-files.js';
import { createContractService } from '../../service/service.js';
import type { CliIo } from '../context.js';
import { demoSamplePath } from './demo.js';
import type { RegisterCommand } from './index.js';

export interface ServeOptions {
  readonly image?: string;
  readonly port?: string;
  /** The built renderer (default dist/renderer/ of this checkout). */
  readonly staticDir?: string;
}

export function parsePort(text: string | undefined): number {
  if (text === undefined) return 0;
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65535) throw usageError(`--port must be an integer in 0..65535 (got "${text}")`);
  return Number(text);
}

/** Start the bridge, print its URL, serve until `until` settles, then shut down. */
export async function serve(opts: ServeOptions, io: CliIo, until: Promise<unknown>): Promise<void> {
  const port = parsePort(opts.port);
  let initialImage: string | null = null;
  if (opts.image !== undefined) {
    ImageFile.open(opts.image).close(); // what the page will open: refused now if it is no image file (a FIFO, a device, missing)
    initialImage = resolve(opts.image);
  }
  const sample = demoSamplePath();
  const service = createContractService(bridgeHost({ initialImage, sampleImage: existsSync(sample) ? sample : null }));
  const staticDir = opts.staticDir ?? rendererDir(fileURLToPath(new URL('.', import.meta.url)));
  try {
    // stderr lines about dropped or refused clients; they never carry a URL or the token
    const bridge = await startBridge({ service, staticDir, port, log: (line) => io.err(`memscope serve: ${line}\n`) });
    io.out(`MemScope: open ${bridge.url}\n`);
    try {
      await until;
    } finally {
      await bridge.close();
    }
  } finally {
    await service.dispose();
  }
}

const stopSignal = (): Promise<void> => new Promise((done) => {
  const stop = () => { process.off('SIGINT', stop); process.off('SIGTERM', stop); done(); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
});

export const register: RegisterCommand = (program, io) => {
  program
    .command('serve')
    .description('serve the app to a browser on 127.0.0.1 (image-only), printing the URL with its token')
    .argument('[image]', 'memory image to open at start: raw, ELF core or Windows crash dump')
    .option('--port <n>', 'port on 127.0.0.1 (0: a free port)', '0')
    .action(async (image: string | undefined, opts: { port?: string }) => {
      await serve({ ...(image !== undefined ? { image } : {}), ...(opts.port !== undefined ? { port: opts.port } : {}) }, io, stopSignal());
    });
};
