/** The one wording of a time against the image's capture: relative, and implausible times said in words. */
import { describe, expect, it } from 'vitest';
import type { ImageTime } from '../../common/contract.js';
import { againstCapture, relativeToCapture } from './capture-time.js';

const CAPTURE = '2026-03-04T10:20:00.000Z';
const BOOT = '2026-03-04T08:00:00.000Z';
const time: ImageTime = { captureTime: CAPTURE, captureSource: 'KUSER_SHARED_DATA.SystemTime', bootTime: BOOT, bootRule: 'KeBootTime', crossCheck: null };
const at = (iso: string) => Date.parse(iso);

describe('relativeToCapture', () => {
  it('counts from the capture time in the unit a responder reads', () => {
    const c = at(CAPTURE);
    expect(relativeToCapture(c, c)).toBe('at capture');
    expect(relativeToCapture(c - 62, c)).toBe('62 ms before capture');
    expect(relativeToCapture(c - 12_000, c)).toBe('12 s before capture');
    expect(relativeToCapture(c - 4 * 60_000, c)).toBe('4 min before capture');
    expect(relativeToCapture(c - 7_500_000, c)).toBe('2 h 5 min before capture');
    expect(relativeToCapture(c - 3 * 86_400_000, c)).toBe('3.0 days before capture');
    expect(relativeToCapture(c + 12_000, c)).toBe('12 s after capture');
    expect(relativeToCapture(c, null)).toBe('');
  });
});

describe('againstCapture', () => {
  it('a time before capture and after boot: the ISO time · how long before capture', () => {
    expect(againstCapture('2026-03-04T10:16:00.000Z', time)).toEqual({
      iso: '2026-03-04T10:16:00.000Z', relative: '4 min before capture', implausible: null, text: '2026-03-04T10:16:00.000Z · 4 min before capture',
    });
  });

  it('after the capture or before the boot: implausible, in words', () => {
    expect(againstCapture('2026-03-04T10:23:00.000Z', time)).toMatchObject({
      relative: '3 min after capture', implausible: 'later than the memory was captured',
      text: '2026-03-04T10:23:00.000Z · 3 min after capture, implausible: later than the memory was captured',
    });
    expect(againstCapture('2026-03-04T07:00:00.000Z', time)).toMatchObject({
      relative: '3 h 20 min before capture', implausible: `earlier than the machine booted (${BOOT})`,
    });
    // a garbage time (smeared live memory) is shown as given, said to be unreadable
    expect(againstCapture('not-a-time', time)).toMatchObject({ relative: null, implausible: 'not a readable date', text: 'not-a-time, implausible: not a readable date' });
  });

  it('no capture time known: the time alone; no time: nothing', () => {
    expect(againstCapture('2026-03-04T10:16:00.000Z', undefined)).toMatchObject({ relative: null, implausible: null, text: '2026-03-04T10:16:00.000Z' });
    expect(againstCapture('2026-03-04T10:16:00.000Z', { ...time, captureTime: null, bootTime: null })?.text).toBe('2026-03-04T10:16:00.000Z');
    expect(againstCapture(null, time)).toBeNull();
  });
});
