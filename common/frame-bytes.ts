/**
 * Bytes inside the bridge's JSON frames. Electron IPC carries a Uint8Array as itself (structured
 * clone); JSON would turn it into {"0":…,"1":…}, so the bridge writes `{"$bytes":"<base64>"}` and the
 * renderer's transport turns it back into a Uint8Array: the renderer sees the same value either way.
 * No Node or DOM imports: btoa/atob are globals in Node ≥ 16 and every browser.
 */

const TAG = '$bytes';
const CHUNK = 0x8000;

export function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += CHUNK) bin += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(bin);
}

export function base64ToBytes(text: string): Uint8Array<ArrayBuffer> {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** JSON.stringify with every Uint8Array as `{"$bytes": base64}`. */
export function encodeFrame(frame: unknown): string {
  return JSON.stringify(frame, (_k, v: unknown) => (v instanceof Uint8Array ? { [TAG]: bytesToBase64(v) } : v));
}

/** JSON.parse turning every `{"$bytes": base64}` back into a Uint8Array. */
export function decodeFrame(text: string): unknown {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      const b = (v as Record<string, unknown>)[TAG];
      if (keys.length === 1 && typeof b === 'string') return base64ToBytes(b);
    }
    return v;
  });
}
