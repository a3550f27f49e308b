import { fileURLToPath } from 'node:url';

const here = import.meta.url;

/** The engine host module beside this one: engine-host.js in dist/, engine-host.ts under tsx/vitest. */
export const ENGINE_HOST_MODULE = fileURLToPath(new URL(/\.ts$/.test(new URL(here).pathname) ? './engine-host.ts' : './engine-host.js', here));
