/**
 * The Content-Security-Policy every renderer response carries, in Electron's custom protocol and in
 * the browser bridge alike: scripts, styles and fetches only from the page's own origin, no inline
 * script or style, no eval, no plugins, no framing. Only the extra `connect-src` differs (the bridge's
 * WebSocket origin).
 */
export function contentSecurityPolicy(extraConnectSrc: readonly string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    ['connect-src', "'self'", ...extraConnectSrc].join(' '),
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
