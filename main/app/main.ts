/**
 * Electron entry (package.json "main": dist/main/app/main.js). Paths are relative to the app root
 * (the folder holding package.json, or the asar archive in a packaged build).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app } from 'electron';
import { registerAppScheme, startShell } from './shell.js';

registerAppScheme();
const root = app.getAppPath();
await startShell({
  rendererRoot: join(root, 'dist', 'renderer'),
  preloadPath: join(root, 'dist', 'preload', 'preload.cjs'),
  engineHostModule: fileURLToPath(new URL('./engine-host.js', import.meta.url)),
});
