/**
 * EngineClient over scripted hosts: what the window gets when the host dies unasked (answers, a failed
 * done for each run in flight, a fresh host), when it keeps dying, and when it ends because it was asked.
 * The real host in a real child process, killed mid-scan, is in engine-host.test.ts.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../common/contract.js';
import { EngineClient, RESTART_LIMIT, type EngineProcess } from './engine-client.js';
import type { HostToMain, MainToHost } from './engine-protocol.js';

class ScriptedHost extends EventEmitter implements EngineProcess {
  readonly received: MainToHost[] = [];
  killed = false;
  postMessage(message: MainToHost): void {
    this.received.push(message);
  }
  kill(): boolean {
    this.killed = true;
    this.exit(1);
    return true;
  }
  send(m: HostToMain): void {
    this.emit('message', m);
  }
  answer(id: number, value: unknown): void {
    this.send({ id, response: { ok: true, value } } as HostToMain);
  }
  exit(code: number): void {
    this.emit('exit', code);
  }
  lastId(): number {
    const r = [...this.received].reverse().find((m): m is Extract<MainToHost, { id: number }> => 'id' in m);
    return r!.id;
  }
}

function setup() {
  const hosts: ScriptedHost[] = [];
  let clock = 1_000;
  const client = new EngineClient(() => { const h = new ScriptedHost(); hosts.push(h); return h; }, () => clock);
  const events: RunEvent[] = [];
  client.onEvent((e) => events.push(e));
  return { client, hosts, events, tick: (ms: number) => { clock += ms; } };
}

async function startRun(client: EngineClient, host: ScriptedHost, runId: string): Promise<void> {
  const answered = client.request('startRun', { sessionId: 's1', request: { plugin: 'psxview' } });
  host.answer(host.lastId(), { runId });
  expect(await answered).toEqual({ ok: true, value: { runId } });
}

const row = (runId: string, key: string): HostToMain => ({ event: { type: 'row', runId, plugin: 'psxview', key, row: {} } } as unknown as HostToMain);

describe('the engine host dies unasked', () => {
  it('answers what was pending, ends each run in flight as failed with what it had, and starts a fresh host', async () => {
    const { client, hosts, events, tick } = setup();
    const host = hosts[0]!;
    await startRun(client, host, 'r1');
    host.send(row('r1', 'a'));
    host.send(row('r1', 'b'));
    host.send(row('r1', 'a')); // psxview re-sends a row as sources complete: still two rows
    host.send({ event: { type: 'progress', runId: 'r1', stage: 'psscan', bytesDone: 512, bytesTotal: 4096 } });
    const pending = client.request('openSession', { path: '/images/x.raw' });
    tick(250);
    host.exit(137);

    expect(await pending).toEqual({ ok: false, error: { code: 'internal', message: 'openSession: the analysis engine stopped unexpectedly (exit code 137); it was restarted: open the image again' } });
    expect(events.filter((e) => e.type === 'done')).toEqual([{
      type: 'done', runId: 'r1', outcome: 'failed',
      error: 'the analysis engine stopped unexpectedly (exit code 137) during this run, after 2 rows; it was restarted: open the image again',
      rows: 2, ms: 250, bytesDone: 512, bytesTotal: 4096,
    }]);
    expect(hosts).toHaveLength(2);
    expect(client.running).toBe(true);
    expect(client.restarts).toBe(1);

    // The next request goes to the new host, and its answer comes back.
    const next = client.request('openSession', { path: '/images/x.raw' });
    expect(host.received.filter((m) => 'id' in m)).toHaveLength(2); // nothing more went to the dead one
    hosts[1]!.answer(hosts[1]!.lastId(), { sessionId: 's2' });
    expect(await next).toEqual({ ok: true, value: { sessionId: 's2' } });
    // A late message from the dead host is not taken for the new one's.
    host.send(row('r1', 'c'));
    expect(events.filter((e) => e.type === 'row')).toHaveLength(3);
  });

  it('does not report a run that had ended before the crash', async () => {
    const { client, hosts, events } = setup();
    await startRun(client, hosts[0]!, 'r1');
    hosts[0]!.send({ event: { type: 'done', runId: 'r1', outcome: 'completed', error: null, rows: 0, ms: 5, bytesDone: 0, bytesTotal: 0 } });
    hosts[0]!.exit(1);
    expect(events.filter((e) => e.type === 'done')).toEqual([expect.objectContaining({ runId: 'r1', outcome: 'completed' })]);
  });

  it(`stops restarting a host that dies more than ${RESTART_LIMIT.count} times in a minute, and says so`, async () => {
    const { client, hosts, tick } = setup();
    for (let i = 0; i < RESTART_LIMIT.count; i++) { hosts.at(-1)!.exit(1); tick(1000); }
    expect(hosts).toHaveLength(RESTART_LIMIT.count + 1);
    const pending = client.request('openSession', { path: '/images/x.raw' });
    hosts.at(-1)!.exit(1);
    expect(await pending).toEqual({ ok: false, error: { code: 'internal', message: `openSession: the analysis engine stopped unexpectedly (exit code 1); it stopped ${RESTART_LIMIT.count + 1} times in a minute and was not restarted: restart MemScope` } });
    expect(hosts).toHaveLength(RESTART_LIMIT.count + 1);
    expect(client.running).toBe(false);
    expect(await client.request('listSessions', {})).toMatchObject({ ok: false, error: { message: 'listSessions: the analysis engine has stopped' } });
  });

  it('restarts again once earlier crashes are more than a minute old', () => {
    const { hosts, tick } = setup();
    for (let i = 0; i < RESTART_LIMIT.count; i++) hosts.at(-1)!.exit(1);
    tick(RESTART_LIMIT.windowMs + 1);
    hosts.at(-1)!.exit(1);
    expect(hosts).toHaveLength(RESTART_LIMIT.count + 2);
  });
});

describe('the engine host ends because it was asked', () => {
  it('is not restarted, and dispose resolves when it has exited', async () => {
    const { client, hosts, events } = setup();
    const disposed = client.dispose();
    expect(hosts[0]!.received).toContainEqual({ control: 'dispose' });
    hosts[0]!.send({ control: 'disposed' });
    hosts[0]!.exit(0);
    await disposed;
    expect(hosts).toHaveLength(1);
    expect(client.running).toBe(false);
    expect(client.lastExitCode).toBe(0);
    expect(events).toEqual([]);
  });
});
