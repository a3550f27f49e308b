/**
 * The bridge's static files: the built renderer (dist/renderer/), read-only, no path traversal (the
 * resolved real path must stay inside the root), a MIME type by extension, nothing listed.
 */
import { realpathSync, statSync } from 'node:fs';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';

const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
};

export const mimeOf = (path: string): string => MIME[extname(path).toLowerCase()] ?? 'application/octet-stream';

/**
 * The file under `root` a URL path names ('/' → index.html), or null when there is none or it
 * would leave the root (`..`, an encoded `%2e%2e`, a NUL, a backslash, a symlink pointing out).
 */
export function staticFile(root: string, urlPath: string): string | null {
  let path: string;
  try {
    path = decodeURIComponent(urlPath);
  } catch {
    return null; // malformed percent-encoding
  }
  if (path.includes('\0') || path.includes('\\') || !path.startsWith('/')) return null;
  if (path.endsWith('/')) path += 'index.html';
  const rootReal = realRoot(root);
  if (rootReal === null) return null;
  const candidate = resolve(rootReal, '.' + path);
  if (!inside(rootReal, candidate)) return null;
  try {
    const real = realpathSync(candidate);
    if (!inside(rootReal, real) || !statSync(real).isFile()) return null;
    return real;
  } catch {
    return null;
  }
}

function realRoot(root: string): string | null {
  try {
    return realpathSync(root);
  } catch {
    return null;
  }
}

function inside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel !== '' && !rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel);
}

/** dist/renderer/ of this checkout: the nearest ancestor of `from` holding package.json, then dist/renderer. */
export function rendererDir(from: string): string {
  let dir = from;
  for (;;) {
    try {
      if (statSync(join(dir, 'package.json')).isFile()) return join(dir, 'dist', 'renderer');
    } catch { /* keep climbing */ }
    const up = resolve(dir, '..');
    if (up === dir) return join(from, 'dist', 'renderer');
    dir = up;
  }
}
