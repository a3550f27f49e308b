import { describe, expect, it } from 'vitest';
import { terminalProgress, warnUnreadable } from './process-commands.js';

function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; written: string[] } {
  const written: string[] = [];
  const stream = { isTTY, write: (s: string) => { written.push(s); return true; } } as unknown as NodeJS.WriteStream;
  return { stream, written };
}

describe('terminalProgress', () => {
  it('shows each new whole percent on a terminal and clears the line at the end', () => {
    const { stream, written } = fakeStream(true);
    const p = terminalProgress('psscan: scanning x.raw', stream);
    const total = 4 * 2 ** 30;
    for (const done of [0, total / 1000, total / 4, total / 4 + 1, total]) p.onProgress(done, total);
    p.done();
    expect(written).toEqual([
      '\rpsscan: scanning x.raw: 0% of 4.0 GiB',
      '\rpsscan: scanning x.raw: 25% of 4.0 GiB',
      '\rpsscan: scanning x.raw: 100% of 4.0 GiB',
      '\r\x1b[K',
    ]);
  });

  it('writes nothing when stderr is a pipe or a file', () => {
    const { stream, written } = fakeStream(false);
    const p = terminalProgress('psscan', stream);
    p.onProgress(1, 2);
    p.done();
    expect(written).toEqual([]);
  });
});

describe('warnUnreadable', () => {
  it("prints the run's count of unreadable pages after its warnings, and nothing when there are none", () => {
    const err: string[] = [];
    const io = { out: () => undefined, err: (t: string) => void err.push(t) };
    warnUnreadable(io, 'psscan', { unreadablePages: 0 });
    expect(err).toEqual([]);
    warnUnreadable(io, 'psscan', { unreadablePages: 3 });
    expect(err).toEqual(['memscope: warning: psscan: 3 pages could not be read and were scanned as zeros\n']);
  });
});
