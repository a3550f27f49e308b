/** The views store: history (Back / Forward), a process opened in its own space, and a new image resetting the views. */
import { describe, expect, it } from 'vitest';
import type { ProcessTableRow, SessionInfo } from '../../common/contract.js';
import { createAppStore } from './app-store.js';
import { createViewsStore } from './views-store.js';

const place = (address: string) => ({ space: { kind: 'kernel' } as const, address, type: null, title: null });

describe('views store', () => {
  it('Back and Forward walk the history; a new place clears Forward', () => {
    const app = createAppStore(null);
    const v = createViewsStore(null, app);
    const s = () => v.getState();
    s().go(place('0x1000'));
    s().go(place('0x2000'));
    s().go(place('0x3000'));
    expect(s().screen).toBe('hex');
    s().goBack();
    s().goBack();
    expect(s().hex.place?.address).toBe('0x1000');
    s().goForward();
    expect(s().hex.place?.address).toBe('0x2000');
    s().go(place('0x4000'));
    expect(s().hex.forward).toEqual([]);
    expect(s().hex.back.map((p) => p.address)).toEqual(['0x1000', '0x2000']);
  });

  it('opens a process at its _EPROCESS in its own address space, and a new image resets the views', () => {
    const app = createAppStore(null);
    const v = createViewsStore(null, app);
    const row = { key: '0xffff1', psxview: { offset: '0xffffb13413201060', pid: 284, name: 'LockApp.exe' }, process: { dtb: '0x3ac8002', physicalOffset: '0x1060' } } as unknown as ProcessTableRow;
    v.getState().openProcess(row);
    expect(v.getState().hex.place).toEqual({ space: { kind: 'process', dtb: '0x3ac8002' }, address: '0xffffb13413201060', type: '_EPROCESS', title: '_EPROCESS of LockApp.exe (PID 284)' });
    app.setState({ session: { sessionId: 'other' } as SessionInfo });
    expect(v.getState().hex.place).toBeNull();
    expect(v.getState().screen).toBe('processes');
  });
});
