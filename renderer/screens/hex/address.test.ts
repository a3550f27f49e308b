/** The hex view's address rules: row ↔ address over the two canonical halves, Go to parsing, copy forms. */
import { describe, expect, it } from 'vitest';
import { addressProblem, addressToRow, formatRowAddress, parseGoTo, pointerProblem, rowCount, rowToAddress, VIRTUAL_ROWS } from './address.js';
import { asCArray, asHex, asWinDbg } from './copy.js';

const kernel = { kind: 'kernel' } as const;
const physical = { kind: 'physical' } as const;

describe('hex view addresses', () => {
  it('maps 2^44 rows onto both canonical halves, joined at 0x7ffffffffff0 | 0xffff800000000000', () => {
    expect(rowCount(kernel, 0)).toBe(VIRTUAL_ROWS);
    expect(rowToAddress(kernel, 2 ** 43 - 1)).toBe(0x7fff_ffff_fff0n);
    expect(rowToAddress(kernel, 2 ** 43)).toBe(0xffff_8000_0000_0000n);
    expect(rowToAddress(kernel, VIRTUAL_ROWS - 1)).toBe(0xffff_ffff_ffff_fff0n);
    for (const a of [0n, 0x7fff_ffff_fff0n, 0xffff_8000_0000_0000n, 0xfffff802_0a600000n, 0xffff_ffff_ffff_fff0n]) {
      expect(rowToAddress(kernel, addressToRow(kernel, a))).toBe(a);
    }
    expect(rowCount(physical, 256 * 1024 * 1024)).toBe(16 * 1024 * 1024);
    expect(rowToAddress(physical, 0x100)).toBe(0x1000n);
  });

  it('parses Go to: hex, WinDbg backticks, symbols with or without nt!, PIDs; says what is wrong otherwise', () => {
    expect(parseGoTo('0xfffff8020a600000')).toEqual({ kind: 'address', address: 0xfffff8020a600000n });
    expect(parseGoTo('fffff802`0a600000')).toEqual({ kind: 'address', address: 0xfffff8020a600000n });
    expect(parseGoTo('fffff8020a600000')).toEqual({ kind: 'address', address: 0xfffff8020a600000n });
    expect(parseGoTo('PsActiveProcessHead')).toEqual({ kind: 'symbol', name: 'PsActiveProcessHead' });
    expect(parseGoTo('nt!PsActiveProcessHead')).toEqual({ kind: 'symbol', name: 'nt!PsActiveProcessHead' });
    expect(parseGoTo('pid 4812')).toEqual({ kind: 'pid', pid: 4812 });
    expect(parseGoTo('#4')).toEqual({ kind: 'pid', pid: 4 });
    expect(parseGoTo('4812')).toEqual({ kind: 'pid', pid: 4812 });
    expect(parseGoTo('')).toMatchObject({ kind: 'error' });
    expect(parseGoTo('-0x10')).toMatchObject({ kind: 'error', message: expect.stringMatching(/negative/) });
    expect(parseGoTo('0x1ffffffffffffffff')).toMatchObject({ kind: 'error', message: expect.stringMatching(/wider than 64 bits/) });
    expect(parseGoTo('what is this?')).toMatchObject({ kind: 'error' });
  });

  it('names what is wrong with an address or a pointer', () => {
    expect(addressProblem(kernel, 0x0000_8000_0000_0000n, 0)).toMatch(/non-canonical/);
    expect(addressProblem(kernel, 0xfffff802_0a600000n, 0)).toBeNull();
    expect(addressProblem(physical, 0x1000_0000n, 0x1000_0000)).toMatch(/past the end of the image/);
    expect(pointerProblem(0n)).toMatch(/null/);
    expect(pointerProblem(0x0001_0000_0000_0000n)).toMatch(/non-canonical/);
    expect(pointerProblem(0xffffb134_13201060n)).toBeNull();
    expect(formatRowAddress(0xfffff802_0a600000n, true)).toBe('fffff802`0a600000');
  });

  it('copies a selection as hex, a C array and a WinDbg db command', () => {
    expect(asHex([0x53, 0x79, null])).toBe('53 79 ??');
    expect(asCArray([0x53, null], 0x1000n)).toBe('/* 2 bytes at 0x1000 */\nunsigned char bytes_1000[2] = {\n  0x53, 0x00 /* ?? */,\n};\n');
    expect(asWinDbg(0xfffff802_0a600000n, 32, false)).toBe('db 0xfffff8020a600000 L0x20');
    expect(asWinDbg(0x1000n, 16, true)).toBe('!db 0x1000 L0x10');
  });
});
