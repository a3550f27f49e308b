/**
 * The process timeline of a session: every process psxview found (all six sources, with its status
 * word), as create / exit events in Timesketch's format, bounded by the image's boot and capture time.
 * The CLI's `memscope timeline` and the evidence bundle's timeline files are this one rendering.
 */
import { renderTimesketch, timelineEvents, type TimesketchEvent, type TimesketchFormat, type TimelineProcess } from '../export/timesketch.js';
import type { PsxViewEntry } from '../plugins/psxview/index.js';
import type { AnalysisSession } from '../session/session.js';
import { psxviewOrder } from '../session/tables.js';

export const timelineProcess = (e: PsxViewEntry): TimelineProcess => ({
  pid: e.process.pid ?? e.row.pid, ppid: e.process.ppid, name: e.process.name ?? e.row.name, status: e.status,
  eprocess: e.key, createTime: e.process.createTime, exitTime: e.process.exitTime ?? e.row.exitTime,
});

/** Events of a session whose psxview has run to completion (the caller runs it). */
export function sessionTimeline(session: AnalysisSession): TimesketchEvent[] {
  const r = session.result('psxview');
  if (!r || r.outcome !== 'completed') throw new Error('psxview has not completed in this session');
  const t = session.info.time;
  // the image's file name, or for live memory what the header calls it ("live memory (\\.\pmem)")
  return timelineEvents(psxviewOrder([...r.rows.values()]).map(timelineProcess), session.info.source.fileName, {
    bootTime: t?.bootTime ?? null, captureTime: t?.captureTime ?? null,
  });
}

export function renderSessionTimeline(session: AnalysisSession, format: TimesketchFormat): string {
  return renderTimesketch(format, sessionTimeline(session));
}
