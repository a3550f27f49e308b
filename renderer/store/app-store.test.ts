import { describe, expect, it } from 'vitest';
import type { MemScopeApi, ProcessTableRow, RunEvent } from '../../common/contract.js';
import { createAppStore, type LinkEvents, type ScanRun } from './app-store.js';
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

  it('the unreadable-page count of a done event (live pages the device refused) is kept on the run; none when absent', () => {
    const store = createAppStore(null);
    store.setState({ run: run('r1') });
    store.getState().applyEvents([{ type: 'done', runId: 'r1', outcome: 'completed', error: null, rows: 0, ms: 5, bytesDone: 8192, bytesTotal: 8192, unreadablePages: 3 }]);
    expect(store.getState().run).toMatchObject({ state: 'completed', unreadablePages: 3 });
    store.setState({ run: run('r2') });
    store.getState().applyEvents([{ type: 'done', runId: 'r2', outcome: 'completed', error: null, rows: 0, ms: 5, bytesDone: 8192, bytesTotal: 8192 }]);
    expect(store.getState().run?.unreadablePages).toBeUndefined();
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

/** A scripted host: openSession answers when the test says, every call is recorded. */
function fakeApi() {
  const calls: { method: string; args: unknown }[] = [];
  let listener: ((e: RunEvent) => void) | null = null;
  let link: ((s: { up: boolean; reason: string | null }) => void) | null = null;
  const opens: ((r: unknown) => void)[] = [];
  let runs = 0;
  const info = (id: string) => ({ sessionId: id, source: { path: `/img/${id}.raw`, fileName: `${id}.raw`, format: 'raw', size: 1, runs: 1, live: false }, kernel: { kernelBase: '0x1', dtb: '0x1', dtbRaw: '0x1', dtbMethod: 'x', build: 1, pdb: null, profileLabel: 'p', profileSource: null }, timings: {}, warnings: [] });
  const api = new Proxy({}, {
    get: (_t, method: string) => {
      if (method === 'onEvent') return (l: (e: RunEvent) => void) => { listener = l; return () => undefined; };
      if (method === 'onLink') return (l: typeof link) => { link = l; return () => undefined; };
      if (method === 'then') return undefined;
      return async (args: unknown) => {
        calls.push({ method, args });
        if (method === 'capabilities') return { ok: true, value: { host: 'bridge', nativeDialogs: false, live: { available: false, reason: '' }, initialImage: null, sampleImage: null } };
        if (method === 'openSession') return new Promise((resolve) => opens.push(resolve));
        if (method === 'startRun') return { ok: true, value: { runId: `run${++runs}` } };
        if (method === 'pickFolder') return { ok: true, value: { path: '/cases/chosen' } };
        if (method === 'exportEvidence') return { ok: true, value: { dir: (args as { out?: string }).out ?? '/home/evidence/e-1', files: 14, complete: true, imageSha256: 'ab'.repeat(32), sha256From: 'computed', warnings: [] } };
        return { ok: true, value: {} };
      };
    },
  }) as unknown as MemScopeApi & LinkEvents;
  return {
    api, calls,
    emit: (e: RunEvent) => listener!(e),
    link: (up: boolean, reason: string | null = null) => link!({ up, reason }),
    answerOpen: (id: string) => opens.shift()!({ ok: true, value: info(id) }),
    openIdOf: (n: number) => (calls.filter((c) => c.method === 'openSession')[n]!.args as { openId: string }).openId,
  };
}

const flush = () => new Promise((r) => setTimeout(r, 30));

/** A store over a fake host with image /img/<id>.raw open. */
async function opened(id: string) {
  const f = fakeApi();
  const store = createAppStore(f.api);
  await store.getState().init();
  const p = store.getState().openImage(`/img/${id}.raw`);
  await flush();
  f.answerOpen(id);
  await p;
  return { f, store };
}

describe('app store: opening, cancel, rescan, a new image, the connection', () => {
  it('shows the open\'s stage from its own open-progress events; Cancel abandons it and closes a session that opened anyway', async () => {
    const f = fakeApi();
    const store = createAppStore(f.api);
    await store.getState().init();
    const opening = store.getState().openImage('/img/a.raw');
    await flush();
    const openId = f.openIdOf(0);
    expect(store.getState().openStatus).toMatchObject({ openId, stage: 'starting' });
    f.emit({ type: 'open-progress', openId: 'someone-else', stage: 'resolving the kernel profile', ms: 5, bytesDone: null, bytesTotal: null });
    f.emit({ type: 'open-progress', openId, stage: 'scanning memory for the page-table base (DTB)', ms: 900, bytesDone: 10, bytesTotal: 100 });
    expect(store.getState().openStatus).toMatchObject({ stage: 'scanning memory for the page-table base (DTB)', bytesDone: 10, bytesTotal: 100 });
    store.getState().cancelOpen();
    expect(store.getState().opening).toBeNull();
    expect(store.getState().notice).toMatch(/^Opening \/img\/a\.raw cancelled after [\d.]+ s, while scanning memory for the page-table base \(DTB\)\.$/);
    expect(f.calls.filter((c) => c.method === 'cancelOpen')).toEqual([{ method: 'cancelOpen', args: { openId } }]);
    f.answerOpen('late'); // the engine finished before it saw the cancel
    await opening;
    expect(store.getState().session).toBeNull();
    expect(f.calls.filter((c) => c.method === 'closeSession')).toEqual([{ method: 'closeSession', args: { sessionId: 'late' } }]);
  });

  it('a new image starts unfiltered, unsorted, flat and unselected; columns and the filter scope stay', async () => {
    const f = fakeApi();
    const store = createAppStore(f.api);
    await store.getState().init();
    store.getState().setUi({ filter: 'svchost', status: 'hidden', tree: true, sorting: [{ id: 'pid', desc: true }], selectedKey: '0xa', searchVerdicts: true, visibility: { dtb: true } });
    const p = store.getState().openImage('/img/b.raw');
    await flush();
    f.answerOpen('b');
    await p;
    expect(store.getState().ui).toEqual({ filter: '', status: null, tree: false, sorting: [], selectedKey: null, searchVerdicts: true, visibility: { dtb: true } });
  });

  it('Rescan after a cancel starts a new run and keeps the rows on screen until it replaces them', async () => {
    const { f, store } = await opened('c');
    store.getState().applyEvents([row('0xa', 4, true, 'on the active list'), { type: 'done', runId: 'run1', outcome: 'cancelled', error: null, rows: 1, ms: 5, bytesDone: 1, bytesTotal: 2 }].map((e) => ({ ...e, runId: 'run1' }) as RunEvent));
    expect(store.getState().run?.state).toBe('cancelled');
    await store.getState().rescan();
    expect(store.getState().run).toMatchObject({ runId: 'run2', state: 'running' });
    expect(store.getState().rows.size).toBe(1);
    expect(f.calls.filter((c) => c.method === 'startRun')).toHaveLength(2);
  });

  it('a lost connection keeps the rows and ends the scan in flight; back again, it says the session is gone', async () => {
    const { f, store } = await opened('d');
    store.getState().applyEvents([{ ...row('0xa', 4, true, 'x'), runId: 'run1' } as RunEvent]);
    f.link(false, 'the connection to the MemScope server at h was lost (code 1006)');
    expect(store.getState().link).toMatchObject({ up: false, reason: expect.stringContaining('code 1006'), restored: false });
    expect(store.getState().run).toMatchObject({ state: 'failed', error: 'the connection to the server was lost' });
    expect(store.getState().rows.size).toBe(1);
    f.link(true);
    expect(store.getState().link).toMatchObject({ up: true, restored: true });
    const again = store.getState().reopen();
    await flush();
    expect(f.calls.filter((c) => c.method === 'openSession').map((c) => (c.args as { path: string }).path)).toEqual(['/img/d.raw', '/img/d.raw']);
    f.answerOpen('d2');
    await again;
    expect(store.getState().link.restored).toBe(false);
  });

  it('a stage that counts its bytes from zero again starts its own rate', () => {
    const store = createAppStore(null);
    store.setState({ run: run('r1') });
    store.getState().applyEvents([{ type: 'progress', runId: 'r1', stage: 'pslist', bytesDone: 900, bytesTotal: 1000 }]);
    store.getState().applyEvents([{ type: 'progress', runId: 'r1', stage: 'psscan', bytesDone: 10, bytesTotal: 1000 }]);
    expect(store.getState().run!.samples.map((x) => x.bytes)).toEqual([10]);
  });
});

describe('app store: Export evidence…', () => {
  it('writes into the folder named (trimmed), or lets the host choose when none is; the notice names the folder', async () => {
    const { f, store } = await opened('e');
    await store.getState().exportEvidence('  /cases/42  ');
    await store.getState().exportEvidence('');
    expect(store.getState().notice).toMatch(/^Evidence bundle written to \/home\/evidence\/e-1 /);
    await store.getState().exportEvidence();
    expect(f.calls.filter((c) => c.method === 'exportEvidence').map((c) => c.args)).toEqual([{ sessionId: 'e', out: '/cases/42' }, { sessionId: 'e' }, { sessionId: 'e' }]);
  });

  it('the folder dialog\'s choice is where the bundle goes, and the notice says so', async () => {
    const { f, store } = await opened('p');
    const path = await store.getState().pickEvidenceFolder();
    expect(path).toBe('/cases/chosen');
    await store.getState().exportEvidence(path);
    expect(f.calls.at(-1)).toEqual({ method: 'exportEvidence', args: { sessionId: 'p', out: '/cases/chosen' } });
    expect(store.getState().notice).toMatch(/^Evidence bundle written to \/cases\/chosen \(14 files; image SHA-256 abababababababab… in manifest\.json\)/);
  });
});
