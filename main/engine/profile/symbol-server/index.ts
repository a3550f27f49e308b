export { fetchProfile, fetchProfileDetailed, type FetchProfileOptions, type FetchedProfile } from './fetch-profile.js';
export { parseSymbolPath, symbolStorePath, DEFAULT_SYMBOL_PATH, MICROSOFT_SYMBOL_SERVER, type SymbolStore } from './symbol-path.js';
export { memscopeHome, cachedPdbPath, cachedProfilePath } from './cache.js';
export { downloadPdb, DEFAULT_MAX_PDB_BYTES, DEFAULT_TIMEOUT_MS, type FetchImpl } from './download.js';
