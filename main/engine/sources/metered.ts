/**
 * Counts what reaches the layer below (bytes and read calls), for progress bars and for tests that
 * check a cache really spares the file. Stack it under a PageCachedSource to count file traffic, or
 * above it to count what callers ask for.
 */
import type { PhysicalRun, PhysicalSource, ReadResult, SourceHints, SourceKind } from './physical-source.js';

export class MeteredSource implements PhysicalSource {
  readonly kind: SourceKind;
  readonly name: string;
  readonly size: number;
  readonly hints: SourceHints;
  readonly inner: PhysicalSource;
  bytesRead = 0;
  readCalls = 0;
  private readonly onRead: ((bytesRead: number) => void) | undefined;

  constructor(inner: PhysicalSource, onRead?: (bytesRead: number) => void) {
    this.inner = inner;
    this.kind = inner.kind;
    this.name = inner.name;
    this.size = inner.size;
    this.hints = inner.hints;
    this.onRead = onRead;
  }

  runs(): readonly PhysicalRun[] {
    return this.inner.runs();
  }

  read(address: number, length: number): ReadResult {
    const r = this.inner.read(address, length);
    this.readCalls++;
    this.bytesRead += length;
    this.onRead?.(this.bytesRead);
    return r;
  }

  close(): void {
    this.inner.close();
  }
}
