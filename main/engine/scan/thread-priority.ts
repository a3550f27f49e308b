/**
 * Scheduling priority of the calling thread, for the scan workers of a fed pool (scan/feed.ts).
 *
 * The reader of a fed pool is the one thread every piece waits for. When it wakes a worker that
 * caught up with it, Linux's scheduler lets the woken thread preempt the waker: measured on the
 * 4 GiB bench image (2 vCPUs, reader + 2 workers + main thread), the reader spent 120–170 ms of a
 * 630–820 ms scan inside Atomics.notify; with the workers at nice 5, 20–45 ms. Workers at a lower
 * priority still get every cycle the reader leaves.
 *
 * Linux keeps a nice value per thread (setpriority(2), NOTES: "the nice value is a per-thread
 * attribute"), so os.setPriority(0, n) from a worker_thread changes that thread alone. On Windows
 * and macOS the same call changes the whole process, so there this does nothing: the Windows reader
 * raises its own thread instead (native/winpmem/win32-device.ts raiseReaderThreadPriority).
 */
import { setPriority } from 'node:os';

/** A worker's nice value: below the reader's (0), as a background task. */
export const SCAN_WORKER_NICE = 5;

/** Lower the calling thread's priority (Linux only: see above); true when it was lowered. */
export function lowerThreadPriority(nice: number = SCAN_WORKER_NICE, platform: NodeJS.Platform = process.platform): boolean {
  if (platform !== 'linux') return false;
  try {
    setPriority(0, nice); // raising a nice value needs no privilege
    return true;
  } catch {
    return false; // a sandbox that forbids it costs speed only
  }
}
