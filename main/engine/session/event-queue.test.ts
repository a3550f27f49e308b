import { describe, expect, it } from 'vitest';
import { EventQueue } from './event-queue.js';

describe('EventQueue', () => {
  it('yields every item in order, pushed before and while reading, then ends', async () => {
    const q = new EventQueue<number>();
    for (let i = 0; i < 5000; i++) q.push(i);
    const got: number[] = [];
    const reading = (async () => { for await (const x of q) got.push(x); })();
    await new Promise((r) => setImmediate(r));
    for (let i = 5000; i < 10_000; i++) q.push(i);
    q.end();
    q.push(-1); // after end: dropped
    await reading;
    expect(got).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
  });
});
