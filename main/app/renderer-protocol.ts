/**
 * The renderer's origin: a custom privileged scheme (`app://memscope/…`) serving the built renderer
 * (dist/renderer) instead of `file://`, so the page has a real origin for its CSP ('self') and can
 * reach nothing else on disk. Every response, errors included, carries the strict CSP. A path that
 * leaves the renderer folder (`..`, encoded or not, a symlink out, a backslash or NUL) or names no file
 * is a 404; any method but GET/HEAD is a 405; another host is a 404.
 */
import { readFile } from 'node:fs/promises';
import { contentSecurityPolicy } from '../../common/csp.js';
import { mimeOf, staticFile } from '../bridge/static-files.js';

export const APP_SCHEME = 'app';
export const APP_HOST = 'memscope';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`;

/** Electron's custom-scheme privileges: a standard, secure origin ('self' in the CSP), fetch allowed; nothing bypasses CSP. */
export const APP_SCHEME_PRIVILEGES = { standard: true, secure: true, supportFetchAPI: true } as const;

export const RENDERER_CSP = contentSecurityPolicy();

function headers(contentType: string): Record<string, string> {
  return {
    'content-type': contentType,
    'content-security-policy': RENDERER_CSP,
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
  };
}

const refuse = (status: number, text: string): Response => new Response(text, { status, headers: headers('text/plain; charset=utf-8') });

/** The file an app:// URL names inside `root` (the bridge's rules: no traversal, no symlink out), or null. */
export function rendererFileFor(root: string, url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return null;
  return staticFile(root, u.pathname || '/');
}

/** The `protocol.handle` handler for APP_SCHEME, serving `root`. */
export function rendererProtocolHandler(root: string): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(405, 'method not allowed');
    const file = rendererFileFor(root, request.url);
    if (!file) return refuse(404, 'not found');
    const type = mimeOf(file);
    const body = request.method === 'HEAD' ? null : await readFile(file);
    return new Response(body, { status: 200, headers: headers(type) });
  };
}

/** Whether a URL is a page of our renderer origin (navigation targets, IPC sender frames). */
export function isAppUrl(url: string | undefined | null): boolean {
  if (!url) return false;
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
  } catch {
    return false;
  }
}
