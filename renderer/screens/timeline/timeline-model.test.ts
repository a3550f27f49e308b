/**
 * The timeline's model on hand-made rows: bars in create order from create to exit (or to capture),
 * undated processes kept in their own lane, implausible times flagged in words, the incident window,
 * and relative wording from the capture time.
 */
import { describe, expect, it } from 'vitest';
import type { ProcessStatus, ProcessTableRow } from '../../../common/contract.js';
import { relativeToCapture } from '../../components/capture-time.js';
import { buildTimeline, createdNear, describeBar } from './timeline-model.js';

const BOOT = '2023-01-12T17:00:00.000Z';
const CAPTURE = '2023-01-12T18:00:00.000Z';
const time = { captureTime: CAPTURE, captureSource: 'KUSER_SHARED_DATA.SystemTime', bootTime: BOOT, bootRule: 'KeBootTime', crossCheck: null };

function row(key: string, pid: number, status: ProcessStatus, createTime: string | null, exitTime: string | null): ProcessTableRow {
  return {
    key, status, evidence: {},
    psxview: { offset: key, pid, name: `p${pid}.exe`, pslist: true, psscan: true, thrdscan: true, cidtable: true, csrss: true, session: true, exitTime, verdict: status, status },
    process: {
      pid, ppid: 4, name: `p${pid}.exe`, imagePath: null, commandLine: null, offset: key, physicalOffset: null, dtb: null, userDtb: null,
      createTime, exitTime, threads: 1, sessionId: 1, wow64: false, missing: [], warnings: [],
      parentName: null, kernelImagePath: null, currentDirectory: null, whyAbsent: {},
    },
  };
}

describe('timeline model', () => {
  const rows = [
    row('a', 8, 'normal', '2023-01-12T17:30:00.000Z', null),
    row('b', 12, 'exited', '2023-01-12T17:10:00.000Z', '2023-01-12T17:56:00.000Z'),
    row('c', 16, 'remnant', null, '2023-01-12T17:20:00.000Z'),
    row('d', 20, 'hidden', '2023-01-11T09:00:00.000Z', null),
    row('e', 24, 'normal', '2023-01-12T17:31:00.000Z', '2023-01-12T18:30:00.000Z'),
    row('f', 28, 'remnant', '2023-01-12T17:40:00.000Z', null),
  ];
  const data = buildTimeline(new Map(rows.map((r) => [r.key, r])), rows.map((r) => r.key), time);

  it('orders bars by create time, ends running ones at capture, keeps undated ones apart', () => {
    expect(data.dated.map((b) => b.key)).toEqual(['d', 'b', 'a', 'e', 'f']);
    // a remnant without an exit time did not run until capture
    const f = data.dated.find((b) => b.key === 'f')!;
    expect(f).toMatchObject({ running: false, end: null });
    expect(describeBar(f, data.capture)).toMatch(/, exit time unreadable$/);
    expect(data.undated.map((b) => b.key)).toEqual(['c']);
    const a = data.dated.find((b) => b.key === 'a')!;
    expect(a).toMatchObject({ running: true, end: Date.parse(CAPTURE), implausible: null });
    expect(data.dated.find((b) => b.key === 'b')).toMatchObject({ running: false, end: Date.parse('2023-01-12T17:56:00.000Z') });
    expect(data.domain[0]).toBeLessThan(Date.parse('2023-01-11T09:00:00.000Z'));
    expect(data.domain[1]).toBeGreaterThan(Date.parse('2023-01-12T18:30:00.000Z'));
  });

  it('flags times before boot and after capture in words', () => {
    expect(data.dated.find((b) => b.key === 'd')!.implausible).toBe('created before boot');
    expect(data.dated.find((b) => b.key === 'e')!.implausible).toBe('exited after capture');
  });

  it('describes each bar relative to the capture time', () => {
    const b = data.dated.find((x) => x.key === 'b')!;
    expect(describeBar(b, data.capture)).toBe('p12.exe PID 12, exited, created 2023-01-12T17:10:00.000Z (50 min before capture), exited 2023-01-12T17:56:00.000Z (4 min before capture)');
    expect(describeBar(data.undated[0]!, data.capture)).toBe('p16.exe PID 16, remnant, no readable create time');
    expect(relativeToCapture(Date.parse(CAPTURE) - 62, data.capture)).toBe('62 ms before capture');
    expect(relativeToCapture(Date.parse(CAPTURE) + 7_500_000, data.capture)).toBe('2 h 5 min after capture');
  });

  it('marks the processes created within the incident window', () => {
    const t = Date.parse('2023-01-12T17:30:30.000Z');
    expect([...createdNear(data.dated, t, 60_000)].sort()).toEqual(['a', 'e']);
    expect([...createdNear(data.dated, t, 10_000)]).toEqual([]);
    expect(createdNear(data.dated, null, 60_000).size).toBe(0);
  });
});
