/**
 * The words a process row is read in, defined once for the engine, the contract and the screen:
 * psxview's six sources, in column order, and the status words its presence table yields. Plain
 * constants with no imports, so the engine's plugins may use them without reaching the IPC layer.
 */

/** psxview's sources, in the order of their columns (CSV, JSON, screen). */
export const PSXVIEW_SOURCES = ['pslist', 'psscan', 'thrdscan', 'cidtable', 'csrss', 'session'] as const;
export type PsxSource = (typeof PSXVIEW_SOURCES)[number];

/**
 * The one-word reading of a psxview row, first in its verdict. `unchecked`: the row cannot be judged
 * because a source that decides it was not checked (scan cancelled or still running) or is unusable.
 */
export const PROCESS_STATUSES = ['normal', 'hidden', 'exited', 'remnant', 'suspicious', 'unchecked'] as const;
export type ProcessStatusWord = (typeof PROCESS_STATUSES)[number];
