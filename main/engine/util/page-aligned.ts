/**
 * Page-aligned byte buffers for the large reads of a scan (pread / ReadFile / the driver's copy into
 * the caller's buffer).
 *
 * Why: the kernel copies a read from page-aligned page-cache (or mapped physical) pages into the
 * caller's buffer, and where that buffer starts matters. A large `new Uint8Array(n)`, `Buffer` or
 * `SharedArrayBuffer` comes from malloc's mmap path and starts 16 bytes into a page; on the bench
 * machine (AMD EPYC, FSRM `rep movsb`) a destination 1–31 bytes into a page made every read 5×
 * slower than a page-aligned one (1 GiB of warm pread in 1 MiB reads: 510–690 ms at page + 8/16/24,
 * 100–125 ms at page + 0 or + 32 and beyond; dd, whose buffers are page-aligned, reads at 9.4 GB/s).
 * JavaScript cannot see or choose an ArrayBuffer's address, but a WebAssembly memory is always
 * page-aligned: its buffer is an ordinary (Shared)ArrayBuffer, used here only as the bytes.
 */

/** The global WebAssembly.Memory (V8 has it in Node; the engine's TypeScript lib does not declare it). */
const WasmMemory = (globalThis as unknown as {
  WebAssembly: { Memory: new (d: { initial: number; maximum: number; shared?: boolean }) => { readonly buffer: ArrayBuffer } };
}).WebAssembly.Memory;

/** WebAssembly's page: memories are sized in these. */
const WASM_PAGE = 64 * 1024;
/** Memory32 holds at most 65536 pages (4 GiB); a scan buffer is a few MiB. */
const MAX_WASM_PAGES = 65536;

function pages(length: number): number {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`page-aligned buffer of ${length} bytes`);
  const n = Math.max(1, Math.ceil(length / WASM_PAGE));
  if (n > MAX_WASM_PAGES) throw new RangeError(`page-aligned buffer of ${length} bytes: over 4 GiB`);
  return n;
}

/** `length` bytes (zeroed) starting on a page boundary, not shared. */
export function pageAlignedBytes(length: number): Uint8Array<ArrayBuffer> {
  const n = pages(length);
  return new Uint8Array(new WasmMemory({ initial: n, maximum: n }).buffer, 0, length);
}

/**
 * A SharedArrayBuffer of at least `length` bytes (zeroed) whose first byte is on a page boundary;
 * postMessage shares it with workers as any SharedArrayBuffer.
 */
export function pageAlignedShared(length: number): SharedArrayBuffer {
  const n = pages(length);
  return new WasmMemory({ initial: n, maximum: n, shared: true }).buffer as unknown as SharedArrayBuffer;
}
