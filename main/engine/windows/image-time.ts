/**
 * When the memory was captured and when the machine booted, read from the kernel itself.
 *
 * Capture time: `KUSER_SHARED_DATA.SystemTime`, the page every x64 Windows kernel maps read-only at
 * VA 0xFFFFF780_00000000 and updates on every clock tick. It is a `_KSYSTEM_TIME` (LowPart, High1Time,
 * High2Time): the kernel writes High2Time, then LowPart, then High1Time, so a reader that sees
 * High1Time == High2Time has a consistent 64-bit value; a mismatch means the page was copied mid-update
 * (live memory, a smeared image) and the value is retried, else reported as such.
 *
 * Boot time, one rule, stated in the result: the `KeBootTime` symbol (FILETIME the kernel keeps of its
 * boot) when the profile has it and it is plausible; otherwise SystemTime − InterruptTime (InterruptTime
 * counts 100 ns since boot, sleep included).
 *
 * Cross-check: a crash dump header's SystemTime (written at the crash) should agree within a minute;
 * an acquisition sidecar's start/end should bracket it. Disagreement is a warning, never silent.
 */
import type { VirtualMemory } from '../translate/types.js';
import type { Profile } from '../profile/profile.js';
import { filetimeToIso } from './struct-view.js';

/** x64 KUSER_SHARED_DATA (MM_SHARED_USER_DATA_VA), fixed since Windows NT on x64. */
export const KUSER_SHARED_DATA_VA = 0xffff_f780_0000_0000n;
/** Field offsets when the profile lacks the type (a heuristic profile): stable since NT 4 (ABI shared with user mode). */
const FALLBACK = { interruptTime: 0x8, systemTime: 0x14 } as const;
/** A crash dump's header time and KUSER_SHARED_DATA's are the same tick; beyond this they disagree. */
export const CROSS_CHECK_TOLERANCE_MS = 60_000;
/** Earliest date a capture or boot time can be (before x64 Windows existed it is garbage). */
const EARLIEST_MS = Date.UTC(2001, 0, 1);
const LATEST_SLACK_MS = 86_400_000;

export interface ImageTime {
  /** ISO 8601 UTC, or null when KUSER_SHARED_DATA could not be read. */
  readonly captureTime: string | null;
  readonly captureSource: string;
  readonly bootTime: string | null;
  /** Which rule gave the boot time: "KeBootTime" | "SystemTime - InterruptTime" | null. */
  readonly bootRule: string | null;
  /** What the capture time was checked against, and whether it agreed. */
  readonly crossCheck: { readonly source: string; readonly time: string; readonly agrees: boolean } | null;
  readonly warnings: readonly string[];
}

export interface ImageTimeInputs {
  readonly kernel: VirtualMemory;
  readonly profile: Profile;
  readonly kernelBase: bigint;
  /** Crash dump header SystemTime (FILETIME), when the source is a dump that recorded one. */
  readonly dumpHeaderTime?: bigint;
  /** Acquisition sidecar's start / end (ISO), when a sidecar exists. */
  readonly sidecar?: { readonly startTime: string | null; readonly endTime: string | null };
  /** Reading live memory: retry a torn _KSYSTEM_TIME. */
  readonly live?: boolean;
  /** Latest plausible time (default: now). */
  readonly now?: number;
}

interface KSystemTime { readonly value: bigint | null; readonly torn: boolean; readonly unreadable: boolean }

function ksystemTimeOffsets(profile: Profile): { interruptTime: number; systemTime: number; low: number; high1: number; high2: number } {
  const t = '_KUSER_SHARED_DATA';
  const has = profile.hasType(t) && profile.hasField(t, 'SystemTime') && profile.hasField(t, 'InterruptTime');
  const k = '_KSYSTEM_TIME';
  const hasK = profile.hasType(k) && profile.hasField(k, 'LowPart') && profile.hasField(k, 'High1Time') && profile.hasField(k, 'High2Time');
  return {
    interruptTime: has ? profile.offsetOf(t, 'InterruptTime') : FALLBACK.interruptTime,
    systemTime: has ? profile.offsetOf(t, 'SystemTime') : FALLBACK.systemTime,
    low: hasK ? profile.offsetOf(k, 'LowPart') : 0,
    high1: hasK ? profile.offsetOf(k, 'High1Time') : 4,
    high2: hasK ? profile.offsetOf(k, 'High2Time') : 8,
  };
}

function readKSystemTime(vm: VirtualMemory, va: bigint, o: { low: number; high1: number; high2: number }, tries: number): KSystemTime {
  let last: KSystemTime = { value: null, torn: false, unreadable: true };
  for (let i = 0; i < tries; i++) {
    const r = vm.read(va, 12);
    if (r.missing.length) return last;
    const dv = new DataView(r.data.buffer, r.data.byteOffset, 12);
    const low = dv.getUint32(o.low, true);
    const high1 = dv.getUint32(o.high1, true);
    const high2 = dv.getUint32(o.high2, true);
    last = { value: (BigInt(high1) << 32n) | BigInt(low), torn: high1 !== high2, unreadable: false };
    if (!last.torn) return last;
  }
  return last;
}

const plausible = (iso: string | null, now: number): iso is string => {
  if (iso === null) return false;
  const ms = Date.parse(iso);
  return ms >= EARLIEST_MS && ms <= now + LATEST_SLACK_MS;
};

export function readImageTime(i: ImageTimeInputs): ImageTime {
  const now = i.now ?? Date.now();
  const warnings: string[] = [];
  const o = ksystemTimeOffsets(i.profile);
  const tries = i.live ? 8 : 1;
  const sys = readKSystemTime(i.kernel, KUSER_SHARED_DATA_VA + BigInt(o.systemTime), o, tries);
  const captureSource = 'KUSER_SHARED_DATA.SystemTime';
  let captureTime: string | null = null;
  if (sys.unreadable) {
    warnings.push(`capture time unknown: KUSER_SHARED_DATA (VA 0xfffff78000000000) is not readable in this image`);
  } else {
    const iso = sys.value === null ? null : filetimeToIso(sys.value);
    if (sys.torn) warnings.push('KUSER_SHARED_DATA.SystemTime was copied mid-update (High1Time ≠ High2Time): the capture time may be off by one tick');
    if (plausible(iso, now)) captureTime = iso;
    else warnings.push(`capture time implausible: KUSER_SHARED_DATA.SystemTime reads ${iso ?? `raw 0x${(sys.value ?? 0n).toString(16)}`}; not used`);
  }

  // Boot time: KeBootTime when the profile knows it and it reads plausibly (before capture), else SystemTime − InterruptTime.
  let bootTime: string | null = null;
  let bootRule: string | null = null;
  if (i.profile.hasSymbol('KeBootTime')) {
    const r = i.kernel.read(i.kernelBase + BigInt(i.profile.symbol('KeBootTime')), 8);
    if (!r.missing.length) {
      const iso = filetimeToIso(new DataView(r.data.buffer, r.data.byteOffset, 8).getBigUint64(0, true));
      if (plausible(iso, now) && (captureTime === null || Date.parse(iso) <= Date.parse(captureTime))) {
        bootTime = iso;
        bootRule = 'KeBootTime';
      }
    }
  }
  if (bootTime === null && captureTime !== null && sys.value !== null) {
    const it = readKSystemTime(i.kernel, KUSER_SHARED_DATA_VA + BigInt(o.interruptTime), o, tries);
    if (it.value !== null && !it.unreadable && it.value > 0n && it.value < sys.value) {
      const iso = filetimeToIso(sys.value - it.value);
      if (plausible(iso, now)) {
        bootTime = iso;
        bootRule = 'SystemTime - InterruptTime';
      }
    }
  }
  if (bootTime === null) warnings.push('boot time unknown: neither KeBootTime nor KUSER_SHARED_DATA.InterruptTime gave a plausible time');

  let crossCheck: ImageTime['crossCheck'] = null;
  const dumpIso = i.dumpHeaderTime === undefined ? null : filetimeToIso(i.dumpHeaderTime);
  if (dumpIso !== null) {
    const agrees = captureTime !== null && Math.abs(Date.parse(dumpIso) - Date.parse(captureTime)) <= CROSS_CHECK_TOLERANCE_MS;
    crossCheck = { source: 'crash dump header SystemTime', time: dumpIso, agrees };
    if (captureTime !== null && !agrees) warnings.push(`capture time ${captureTime} (KUSER_SHARED_DATA) disagrees with the crash dump header's ${dumpIso} by more than ${CROSS_CHECK_TOLERANCE_MS / 1000} s`);
  } else if (i.sidecar && (i.sidecar.startTime !== null || i.sidecar.endTime !== null)) {
    const from = i.sidecar.startTime === null ? -Infinity : Date.parse(i.sidecar.startTime) - CROSS_CHECK_TOLERANCE_MS;
    const to = i.sidecar.endTime === null ? Infinity : Date.parse(i.sidecar.endTime) + CROSS_CHECK_TOLERANCE_MS;
    const t = captureTime === null ? NaN : Date.parse(captureTime);
    const agrees = t >= from && t <= to;
    const span = `${i.sidecar.startTime ?? '?'} – ${i.sidecar.endTime ?? '?'}`;
    crossCheck = { source: 'acquisition sidecar', time: span, agrees };
    if (captureTime !== null && !agrees) warnings.push(`capture time ${captureTime} (KUSER_SHARED_DATA) is outside the acquisition sidecar's ${span}`);
  }
  return { captureTime, captureSource, bootTime, bootRule, crossCheck, warnings };
}
