/**
 * The contract service on real sample images of two builds and two formats: every method's
 * malformed arguments get `invalid-request` (never a throw), bad files get one sentence naming the
 * file and the fault with the right code, unknown sessions and runs `not-found`, a scan cancelled
 * mid-way and a source failing mid-scan end as such with the rows found kept.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METHODS, type Capabilities, type DiscoveryCandidates, type Envelope, type MemoryRead, type RunEvent, type SessionInfo, type StructDump } from '../../common/contract.js';
import { decodeFrame, encodeFrame } from '../../common/frame-bytes.js';
import { MemScopeError } from '../engine/errors.js';
import { buildSample, type GroundTruth } from '../engine/sample/index.js';
import { openSource } from '../engine/sources/detect.js';
import type { PhysicalSource } from '../engine/sources/physical-source.js';
import { createContractService } from './service.js';
import type { ContractService, ServiceHost } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'memscope-service-'));
const images: { path: string; truth: GroundTruth }[] = [];
const caps: Capabilities = { host: 'bridge', nativeDialogs: false, live: { available: false, reason: 'no live memory in tests' }, initialImage: null, sampleImage: null };

/** The "live" source of the failing-source test: an image whose reads fail once the scan reaches its second half. */
let liveSource: () => PhysicalSource = () => { throw new Error('not set'); };
const host: ServiceHost = { capabilities: () => caps, openLive: async () => liveSource() };
let service: ContractService;
const events: RunEvent[] = [];

beforeAll(async () => {
  for (const [build, format, seed] of [['19041', 'raw', 21], ['22000', 'elf', 22]] as const) {
    const path = join(dir, `s${build}.${format}`);
    images.push({ path, truth: await buildSample({ build, format, out: path, sizeMiB: 64, seed, processes: 4 }) });
  }
  service = createContractService(host, { session: { workers: 2 } });
  service.onEvent((e) => events.push(e));
});
afterAll(async () => {
  await service.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const ok = <T>(e: Envelope<unknown>): T => {
  if (!e.ok) throw new Error(`expected ok, got ${e.error.code}: ${e.error.message}`);
  return e.value as T;
};
const runEvents = async (runId: string): Promise<RunEvent[]> => {
  await expect.poll(() => events.some((e) => e.type === 'done' && e.runId === runId), { timeout: 60_000 }).toBe(true);
  return events.filter((e) => e.runId === runId);
};

describe('contract service', () => {
  it.each([0, 1])('opens sample %i, streams psxview, exports, closes', async (i) => {
    const { path, truth } = images[i]!;
    const info = ok<SessionInfo>(await service.handle('openSession', { path }));
    expect(info.kernel).toMatchObject({ kernelBase: truth.kernelBase, dtbRaw: truth.dtb, build: truth.buildNumber });
    expect(info.source.format).toBe(i === 0 ? 'raw' : 'elf-core');
    const { runId } = ok<{ runId: string }>(await service.handle('startRun', { sessionId: info.sessionId, request: { plugin: 'psxview' } }));
    const mine = await runEvents(runId);
    const done = mine[mine.length - 1]!;
    expect(done).toMatchObject({ type: 'done', outcome: 'completed', error: null });
    const keys = new Set(mine.flatMap((e) => (e.type === 'row' ? [e.key] : [])));
    expect(keys.size).toBe(truth.processes.filter((p) => Object.values(p.foundBy).some(Boolean)).length);
    const csv = ok<{ kind: string; text: string }>(await service.handle('exportTable', { sessionId: info.sessionId, table: 'psxview', format: 'csv', keys: null }));
    expect(csv.kind).toBe('download');
    expect(csv.text.trim().split('\r\n')).toHaveLength(keys.size + 1);
    expect(ok(await service.handle('closeSession', { sessionId: info.sessionId }))).toEqual({});
    expect(await service.handle('startRun', { sessionId: info.sessionId, request: { plugin: 'pslist' } })).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });

  it('every method refuses malformed arguments with invalid-request naming the field', async () => {
    const malformed: Record<string, unknown[]> = {
      capabilities: [null, 1, 'x', { extra: 1 }],
      pickImage: [null, { path: '/x' }],
      openSession: [undefined, {}, { path: '' }, { path: 7 }, { path: 'a'.repeat(5000) }, { path: '/x', more: 1 }, { path: '/x', openId: '../x' }],
      openLive: [[], { live: true }],
      closeSession: [{}, { sessionId: '' }, { sessionId: '../x' }, { sessionId: 'a'.repeat(65) }],
      startRun: [{}, { sessionId: 'abc' }, { sessionId: 'abc', request: {} }, { sessionId: 'abc', request: { plugin: 'malfind' } },
        { sessionId: 'abc', request: { plugin: 'struct', type: '_EPROCESS', address: '0xZZ', space: 'virtual' } },
        { sessionId: 'abc', request: { plugin: 'struct', type: 'x; rm', address: '0x10', space: 'virtual' } },
        { sessionId: 'abc', request: { plugin: 'struct', type: '_EPROCESS', address: '0x10', space: 'kernel' } },
        { sessionId: 'abc', request: { plugin: 'struct', type: '_EPROCESS', address: '0x10000000000000000', space: 'physical' } }],
      cancelRun: [{}, { runId: 3 }, { runId: 'a b' }],
      cancelOpen: [{}, { openId: 3 }, { openId: 'a b' }, { openId: 'x', more: 1 }],
      exportTable: [{}, { sessionId: 'abc', table: 'psxview', format: 'xml', keys: null }, { sessionId: 'abc', table: 'modules', format: 'csv', keys: null },
        { sessionId: 'abc', table: 'psxview', format: 'csv' }, { sessionId: 'abc', table: 'psxview', format: 'csv', keys: [1] }],
      // live memory (issue 20)
      livePreflight: [null, { driver: 'x.sys' }],
      acquireStart: [{}, { sessionId: 'abc', out: '', format: 'raw' }, { sessionId: 'abc', out: '/x', format: 'dmp' }, { sessionId: 'abc', out: 'a'.repeat(5000), format: 'raw' }, { sessionId: '../x', out: '/x', format: 'raw' }],
      acquireStatus: [{}, { acquireId: 'a b' }],
      acquireCancel: [{}, { acquireId: 7 }],
      readMemory: [{}, { sessionId: 'abc', space: { kind: 'kernel' }, address: '0x10', length: 0 },
        { sessionId: 'abc', space: { kind: 'kernel' }, address: '0x10', length: 1024 * 1024 + 1 },
        { sessionId: 'abc', space: { kind: 'kernel' }, address: '-0x10', length: 16 },
        { sessionId: 'abc', space: { kind: 'kernel' }, address: '0x10000000000000000', length: 16 },
        { sessionId: 'abc', space: { kind: 'process' }, address: '0x10', length: 16 },
        { sessionId: 'abc', space: { kind: 'user' }, address: '0x10', length: 16 }],
      cancelRequest: [{}, { requestId: 'a b' }],
      layStruct: [{ sessionId: 'abc', space: { kind: 'kernel' }, type: 'x; rm', address: '0x10' }, { sessionId: 'abc', space: { kind: 'kernel' }, type: '_EPROCESS' }],
      resolveSymbol: [{ sessionId: 'abc' }, { sessionId: 'abc', name: '' }, { sessionId: 'abc', name: 'x'.repeat(300) }],
      listTypes: [{}, { sessionId: 'abc', more: 1 }],
      mappedRanges: [{ sessionId: 'abc', space: { kind: 'kernel' }, from: '0x0', to: '0x1000', max: 0 }],
      discoveryReport: [{}],
      translateAddress: [{}, { sessionId: 'abc', space: { kind: 'kernel' }, address: '0x10000000000000000' }, { sessionId: 'abc', space: { kind: 'kernel' } }],
      exportEvidence: [{}, { sessionId: 'x', out: 'relative/dir' }, { sessionId: 'x', out: '' }, { sessionId: 'x', out: '/tmp/b', more: 1 }],
      pickFolder: [null, { path: '/x' }],
    };
    expect(Object.keys(malformed).sort()).toEqual([...METHODS].sort());
    for (const [method, cases] of Object.entries(malformed)) {
      for (const args of cases) {
        const r = await service.handle(method, args);
        expect(r, `${method} ${JSON.stringify(args)}`).toMatchObject({ ok: false, error: { code: 'invalid-request', message: expect.stringMatching(new RegExp(`^${method}: `)) } });
      }
    }
    for (const method of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '']) {
      expect(await service.handle(method, {})).toMatchObject({ ok: false, error: { code: 'unknown-method' } });
    }
  });

  it('memory views: readMemory answers bytes (a Uint8Array, also through the bridge\'s JSON frame) with per-page status; bad requests are typed', async () => {
    const { path, truth } = images[1]!;
    const info = ok<SessionInfo>(await service.handle('openSession', { path }));
    const sessionId = info.sessionId;
    const p = truth.processes.find((x) => x.foundBy.pslist && x.mapped !== false)!;
    const r = ok<MemoryRead>(await service.handle('readMemory', { sessionId, space: { kind: 'process', dtb: p.dtb }, address: p.offset, length: 0x2000 }));
    expect(r.bytes).toBeInstanceOf(Uint8Array);
    expect(r.bytes.length).toBe(0x2000);
    expect(r.dtb).toBe(p.dtb);
    expect(r.spans.reduce((n, x) => n + x.length, 0)).toBe(0x2000);
    // a kernel address translates through the kernel's DTB to where the truth put its bytes
    expect(ok(await service.handle('translateAddress', { sessionId, space: { kind: 'kernel' }, address: p.offset })))
      .toMatchObject({ dtb: info.kernel.dtbRaw, address: p.offset, pa: p.physicalOffset, status: 'resident' });
    expect(ok(await service.handle('translateAddress', { sessionId, space: { kind: 'kernel' }, address: '0x1000' }))).toMatchObject({ pa: null, status: 'not-present' });
    const st = ok<StructDump>(await service.handle('layStruct', { sessionId, space: { kind: 'kernel' }, type: '_EPROCESS', address: p.offset }));
    const nameField = st.fields.find((f) => f.name === 'ImageFileName')!;
    expect(nameField.value).toEqual({ kind: 'string', text: p.name });
    const at = nameField.offset;
    expect(Buffer.from(r.bytes.subarray(at, at + p.name.length)).toString('latin1')).toBe(p.name);
    // the bridge's frame: bytes travel as base64 and come back as the same Uint8Array
    const back = decodeFrame(encodeFrame({ id: 1, response: { ok: true, value: r } })) as { response: { value: MemoryRead } };
    expect(back.response.value.bytes).toBeInstanceOf(Uint8Array);
    expect(back.response.value.bytes).toEqual(r.bytes);
    const sym = ok<{ address: string }>(await service.handle('resolveSymbol', { sessionId, name: 'nt!PsActiveProcessHead' }));
    expect(sym.address).toBe(truth.symbols['PsActiveProcessHead']);
    const disc = ok<DiscoveryCandidates>(await service.handle('discoveryReport', { sessionId }));
    expect(disc.accepted?.dtbRaw).toBe(truth.dtb);
    expect(disc.candidates.some((c) => c.status === 'accepted' && c.selfRefIndex === truth.selfRefIndex)).toBe(true);
    for (const [args, pattern] of [
      [{ space: { kind: 'kernel' }, address: '0x800000000000', length: 16 }, /non-canonical/],
      [{ space: { kind: 'physical' }, address: `0x${truth.sizeBytes.toString(16)}`, length: 16 }, /past the end of the image/],
      [{ space: { kind: 'process', dtb: p.physicalOffset }, address: p.offset, length: 16 }, /not a page table|outside the image/],
    ] as const) {
      expect(await service.handle('readMemory', { sessionId, ...args }), JSON.stringify(args)).toMatchObject({ ok: false, error: { code: 'invalid-request', message: expect.stringMatching(pattern) } });
    }
    expect(await service.handle('resolveSymbol', { sessionId, name: 'NoSuchSymbol' })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await service.handle('cancelRequest', { requestId: 'nothing' })).toMatchObject({ ok: false, error: { code: 'not-found' } });
    // a read cancelled while in flight answers cancelled
    const big = service.handle('readMemory', { sessionId, space: { kind: 'kernel' }, address: truth.kernelBase, length: 1024 * 1024, requestId: 'r1' });
    ok(await service.handle('cancelRequest', { requestId: 'r1' }));
    expect(await big).toMatchObject({ ok: false, error: { message: expect.stringMatching(/cancelled/) } });
    ok(await service.handle('closeSession', { sessionId }));
  });

  it('bad files: one sentence naming the file and the fault, with the right code', async () => {
    const notes = join(dir, 'notes.txt');
    writeFileSync(notes, 'hello, not memory\n');
    const noKernel = join(dir, 'zeros.raw');
    writeFileSync(noKernel, Buffer.alloc(1 << 20));
    const folder = join(dir, 'folder.raw');
    mkdirSync(folder);
    const cases: [string, string, RegExp][] = [
      [notes, 'analysis', /^.*notes\.txt: unknown format: /],
      [join(dir, 'missing.raw'), 'io', /missing\.raw: no such file$/],
      [folder, 'io', /folder\.raw: is a directory/],
      [noKernel, 'analysis', /zeros\.raw/],
    ];
    for (const [path, code, message] of cases) {
      const r = await service.handle('openSession', { path });
      expect(r, path).toMatchObject({ ok: false, error: { code, message: expect.stringMatching(message) } });
      if (!r.ok) expect(r.error.message.split('\n')).toHaveLength(1);
    }
  });

  it('unknown sessions and runs are not-found; an unsupported host feature says why', async () => {
    expect(await service.handle('closeSession', { sessionId: 'nosuch' })).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(await service.handle('cancelRun', { runId: 'nosuch' })).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(await service.handle('exportTable', { sessionId: 'nosuch', table: 'psxview', format: 'csv', keys: null })).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(await service.handle('pickImage', {})).toMatchObject({ ok: false, error: { code: 'unsupported' } });
    expect(await service.handle('pickFolder', {})).toMatchObject({ ok: false, error: { code: 'unsupported', message: expect.stringMatching(/type the folder/) } });
    expect(ok(await service.handle('capabilities', {}))).toEqual(caps);
  });

  it('exporting a table not yet run, or a key it does not have, is invalid-request', async () => {
    const info = ok<SessionInfo>(await service.handle('openSession', { path: images[0]!.path }));
    try {
      expect(await service.handle('exportTable', { sessionId: info.sessionId, table: 'pslist', format: 'csv', keys: null }))
        .toMatchObject({ ok: false, error: { code: 'invalid-request', message: expect.stringMatching(/pslist has not been run/) } });
    } finally {
      await service.handle('closeSession', { sessionId: info.sessionId });
    }
  });

  it('cancel mid-scan: the run ends cancelled with the bytes covered, rows kept; a new run scans again', async () => {
    const info = ok<SessionInfo>(await service.handle('openSession', { path: images[0]!.path }));
    try {
      let cancelled = false;
      const off = service.onEvent((e) => {
        if (!cancelled && e.type === 'progress' && e.bytesDone > 0 && e.bytesDone < e.bytesTotal) {
          cancelled = true;
          void service.handle('cancelRun', { runId: e.runId });
        }
      });
      const { runId } = ok<{ runId: string }>(await service.handle('startRun', { sessionId: info.sessionId, request: { plugin: 'psscan' } }));
      const mine = await runEvents(runId);
      off();
      const done = mine[mine.length - 1]!;
      if (done.type !== 'done') throw new Error('no done');
      expect(done.outcome).toBe('cancelled');
      expect(done.bytesDone).toBeLessThan(done.bytesTotal);
      expect(ok(await service.handle('cancelRun', { runId }))).toEqual({}); // cancelling a finished run is harmless
      const partial = ok<{ text: string }>(await service.handle('exportTable', { sessionId: info.sessionId, table: 'psscan', format: 'json', keys: null }));
      expect((JSON.parse(partial.text) as unknown[]).length).toBe(done.rows);
      const again = ok<{ runId: string }>(await service.handle('startRun', { sessionId: info.sessionId, request: { plugin: 'psscan' } }));
      const second = await runEvents(again.runId);
      expect(second.some((e) => e.type === 'progress')).toBe(true);
      expect(second[second.length - 1]).toMatchObject({ type: 'done', outcome: 'completed' });
    } finally {
      await service.handle('closeSession', { sessionId: info.sessionId });
    }
  });

  it('a source failing half-way through the scan: rows kept, the run ends failed naming the fault', async () => {
    let failing = false;
    liveSource = () => {
      const inner = openSource(images[1]!.path);
      return {
        kind: inner.kind, name: inner.name, size: inner.size, hints: inner.hints, runs: () => inner.runs(),
        read: (address, length) => {
          if (length >= 1 << 20 && address >= inner.size / 2) failing = true;
          if (failing) throw new MemScopeError('io', `${inner.name}: read failed at PA 0x${address.toString(16)}: input/output error`);
          return inner.read(address, length);
        },
        close: () => inner.close(),
      };
    };
    const info = ok<SessionInfo>(await service.handle('openLive', {}));
    try {
      const { runId } = ok<{ runId: string }>(await service.handle('startRun', { sessionId: info.sessionId, request: { plugin: 'psxview' } }));
      const mine = await runEvents(runId);
      const done = mine[mine.length - 1]!;
      expect(failing).toBe(true);
      expect(done).toMatchObject({ type: 'done', outcome: 'failed', error: expect.stringMatching(/s22000\.elf: read failed at PA 0x[0-9a-f]+: input\/output error$/) });
      if (done.type !== 'done') throw new Error('no done');
      expect(done.rows).toBeGreaterThan(0);
      const kept = ok<{ text: string }>(await service.handle('exportTable', { sessionId: info.sessionId, table: 'psxview', format: 'json', keys: null }));
      expect((JSON.parse(kept.text) as unknown[]).length).toBe(done.rows);
    } finally {
      await service.handle('closeSession', { sessionId: info.sessionId });
    }
  });

  it('an internal failure becomes `internal` with a sentence, never a throw', async () => {
    const broken = createContractService({ capabilities: () => { throw new TypeError('capabilities table missing'); } });
    expect(await broken.handle('capabilities', {})).toEqual({ ok: false, error: { code: 'internal', message: 'internal error: capabilities table missing' } });
    await broken.dispose();
    expect(await broken.handle('capabilities', {})).toMatchObject({ ok: false, error: { code: 'unsupported' } });
  });
});
