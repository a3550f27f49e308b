import { describe, expect, it } from 'vitest';
import type { ProcessTableRow, RunEvent } from '../../common/contract.js';
import { createAppStore, type ScanRun } from './app-store.js';
import { bytesPerSecond, secondsLeft } from './scan-rate.js';

const run = (runId: string): ScanRun => ({ runId, state: 'running', stage: 'starting', bytesDone: 0, bytesTotal: 0, samples: [], startedAt: 0, ms: null, error: null, warnings: [] });

function row(key: string, pid: number, pslist: boolean, verdict: string, status: ProcessTableRow['status'] = 'normal'): RunEvent {
  return {
    type: 'row', runId: 'r1', plugin: 'psxview', key,
    row: { key, status, evidence: {}, process: null, psxview: { offset: key, pid, name: `p${pid}`, pslist, psscan: false, thrdscan: false, cidtable: false, csrss: false, session: false, exitTime: null, verdict, status } },
  };
}

describe('app store: run events → rows and scan state', () => {
  it('upserts rows by key (a later event replaces the row, keeps its place) and ignores other runs', () => {
    const store = createAppStore(null);
    store.setState({ run: run('r1') });
    store.getState().applyEvents([row('0xa', 4, true, 'on the active list; still checking'), row('0xb', 8, true, 'on the active list; still checking')]);
    store.getState().applyEvents([
      row('0xa', 4, true, 'listed everywhere: normal'),
      { ...row('0xz', 99, false, 'from another session'), runId: 'old' } as RunEvent,
      row('0xc', 12, false, 'unlinked from the active list: likely hidden (DKOM)', 'hidden'),
    ]);
    const s = store.getState();
    expect(s.order).toEqual(['0xa', '0xb', '0xc']);
    expect(s.rows.get('0xa')!.psxview.verdict).toBe('listed everywhere: normal');
    expect(s.rows.has('0xz')).toBe(false);
    expect(s.rows.get('0xc')!.status).toBe('hidden');
  });

  it('a cancelled run keeps its rows and says how far it got; a failed one raises one problem sentence', () => {
    const store = createAppStore(null);
    store.setState({ run: run('r1') });
    store.getState().applyEvents([
      row('0xa', 4, true, 'x'),
      { type: 'progress', runId: 'r1', stage: 'psscan', bytesDone: 100, bytesTotal: 1000 },
      { type: 'done', runId: 'r1', outcome: 'cancelled', error: null, rows: 1, ms: 50, bytesDone: 100, bytesTotal: 1000 },
    ]);
    expect(store.getState().run).toMatchObject({ state: 'cancelled', bytesDone: 100, bytesTotal: 1000 });
    expect(store.getState().rows.size).toBe(1);
    expect(store.getState().problem).toBeNull();

    store.setState({ run: { ...run('r2') } });
    store.getState().applyEvents([{ type: 'done', runId: 'r2', outcome: 'failed', error: '/x/img.raw: read failed at offset 0x1000 (EIO)', rows: 0, ms: 5, bytesDone: 4096, bytesTotal: 8192 }]);
    expect(store.getState().problem).toEqual({ message: '/x/img.raw: read failed at offset 0x1000 (EIO)', kept: 'The 1 processes found before the failure are kept.' });
  });

  it('scan rate and time left come from the recent samples', () => {
    const samples = [{ t: 0, bytes: 0 }, { t: 1000, bytes: 100 * 2 ** 20 }];
    expect(bytesPerSecond(samples)).toBe(100 * 2 ** 20);
    expect(secondsLeft(samples, 300 * 2 ** 20)).toBe(2);
    expect(bytesPerSecond([{ t: 0, bytes: 0 }])).toBeNull();
  });
});
