/**
 * A push queue read as an async iterable: plugin runners push events from callbacks and generators,
 * the consumer (the service, the CLI) pulls them in order. Unbounded: a run's events are its rows,
 * which the session keeps anyway. Reads advance a head index (no Array.shift: a 10,000-row psxview
 * sends each row six times).
 */
export class EventQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private head = 0;
  private waiting: (() => void) | null = null;
  private ended = false;

  push(item: T): void {
    if (this.ended) return;
    this.items.push(item);
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = null;
    w?.();
  }

  private take(): T {
    const item = this.items[this.head++]!;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head); // drop what was read, keep the memory bounded
      this.head = 0;
    }
    return item;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.head < this.items.length) { yield this.take(); continue; }
      if (this.ended) return;
      await new Promise<void>((resolve) => { this.waiting = resolve; });
    }
  }
}
