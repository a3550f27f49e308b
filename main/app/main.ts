/**
 * Electron entry (package.json "main": dist/main/app/main.js). Paths are relative to the app root
 * (the folder holding package.json, or the asar archive in a packaged build).
 */
import { join } from 'node:path';
import { app } from 'electron';
import { initialImageFrom } from './electron-service-host.js';
import { ENGINE_HOST_MODULE } from './engine-host-path.js';
import { registerAppScheme, startShell } from './shell.js';

registerAppScheme();
const root = app.getAppPath();
startShell({
  rendererRoot: join(root, 'dist', 'renderer'),
  preloadPath: join(root, 'dist', 'preload', 'preload.cjs'),
  engineHostModule: ENGINE_HOST_MODULE,
  initialImage: initialImageFrom(process.argv, process.defaultApp === true),
}).catch((e: unknown) => {
  process.stderr.write(`MemScope could not start: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  app.exit(1);
});
