import { describe, expect, it } from 'vitest';
import { ContractError } from '../../common/contract.js';
import { electronServiceHost, initialImageFrom, LIVE_UNSUPPORTED } from './electron-service-host.js';

describe('Electron service host', () => {
  it('off Windows: native dialogs, no live source, the one sentence why', () => {
    for (const platform of ['linux', 'darwin'] as const) {
      const host = electronServiceHost({ platform });
      expect(host.capabilities()).toEqual({
        host: 'electron', nativeDialogs: true, live: { available: false, reason: LIVE_UNSUPPORTED }, initialImage: null, sampleImage: null,
      });
      expect(host.openLive).toBeUndefined();
      expect(host.pickImage).toBeUndefined(); // dialogs are main's, not the utility process's
    }
  });

  it('on Windows: live is WinPmem; a failure to open it says what is needed and what Windows said', async () => {
    const host = electronServiceHost({ platform: 'win32' });
    expect(host.capabilities().live.available).toBe(true);
    expect(host.liveRef).toBeTypeOf('function'); // the session and its scan workers open the device themselves
    expect(host.livePreflight).toBeTypeOf('function');
    if (process.platform === 'win32') return; // a real Windows machine may well open it
    const err = await host.liveRef!().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContractError);
    expect(err).toMatchObject({ code: 'unsupported', message: expect.stringContaining(LIVE_UNSUPPORTED) });
  });

  it('an image named on the command line becomes the initial image', () => {
    expect(initialImageFrom(['/usr/bin/electron', '.', '/cases/a.raw'], true)).toBe('/cases/a.raw');
    expect(initialImageFrom(['/usr/bin/electron', '.', '--inspect=0', 'b.dmp'], true)).toBe('b.dmp');
    expect(initialImageFrom(['C:\\MemScope.exe', 'c.raw'], false)).toBe('c.raw');
    expect(initialImageFrom(['/usr/bin/electron', '/repo'], true)).toBeNull();
    expect(electronServiceHost({ platform: 'linux', initialImage: '/cases/a.raw' }).capabilities().initialImage).toBe('/cases/a.raw');
  });
});
