import { describe, expect, it } from 'vitest';
import { UTF8_BOM, escapeFormula, toCsv, toJson } from './index.js';

/** Minimal RFC 4180 reader (test-only, written from the RFC's grammar, not from the writer). */
function parse(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i++; continue; }
      cell += c; i++; continue;
    }
    if (c === '"' && cell === '') { quoted = true; i++; continue; }
    if (c === ',') { row.push(cell); cell = ''; i++; continue; }
    if (c === '\r' && text[i + 1] === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; i += 2; continue; }
    cell += c; i++;
  }
  if (cell !== '' || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

describe('CSV export', () => {
  const rows = [
    { pid: 4, name: 'System', commandLine: null, wow64: false, missing: [] },
    { pid: 1234, name: 'evil,"quoted"', commandLine: '=cmd|\' /C calc\'!A0', wow64: true, missing: ['imagePath', 'commandLine'] },
    { pid: 88, name: '+sum', commandLine: 'line1\nline2', wow64: null, missing: [] },
    { pid: 89, name: '-x', commandLine: '@SUM(A1)', wow64: null, missing: [] },
    { pid: 90, name: '\ttab', commandLine: '\rcr', wow64: null, missing: [] },
    { pid: 91, name: 'Ünïcødé 名前', commandLine: 'C:\\Windows\\explorer.exe', wow64: null, missing: [] },
  ];

  it('starts with a UTF-8 BOM and uses CRLF records (RFC 4180)', () => {
    const csv = toCsv(rows);
    expect(csv.startsWith(UTF8_BOM)).toBe(true);
    expect(csv.slice(1).split('\r\n')[0]).toBe('pid,name,commandLine,wow64,missing');
    expect(Buffer.from(csv, 'utf8').subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
  });

  it('round-trips through an independent RFC 4180 parser with formula cells neutralised', () => {
    const back = parse(toCsv(rows).slice(1));
    expect(back[0]).toEqual(['pid', 'name', 'commandLine', 'wow64', 'missing']);
    expect(back[1]).toEqual(['4', 'System', '', 'false', '']);
    expect(back[2]).toEqual(['1234', 'evil,"quoted"', "'=cmd|' /C calc'!A0", 'true', 'imagePath; commandLine']);
    expect(back[3]).toEqual(['88', "'+sum", 'line1\nline2', '', '']);
    expect(back[4]).toEqual(['89', "'-x", "'@SUM(A1)", '', '']);
    expect(back[5]).toEqual(['90', "'\ttab", "'\rcr", '', '']);
    expect(back[6]).toEqual(['91', 'Ünïcødé 名前', 'C:\\Windows\\explorer.exe', '', '']);
  });

  it('escapes only cells that start with a formula character', () => {
    expect(escapeFormula('a=b')).toBe('a=b');
    expect(escapeFormula('=1+1')).toBe("'=1+1");
    expect(escapeFormula('')).toBe('');
  });

  it('honours an explicit column list and writes a header for an empty table', () => {
    expect(toCsv([], { columns: ['pid', 'name'] })).toBe(UTF8_BOM + 'pid,name\r\n');
    expect(toCsv([{ a: 1, b: 2 }], { columns: ['b'], bom: false })).toBe('b\r\n2\r\n');
  });
});

describe('JSON export', () => {
  it('keeps field names and null, bigint as string', () => {
    const j = JSON.parse(toJson([{ pid: 4, exitTime: null, big: 2n ** 64n - 1n }])) as unknown[];
    expect(j).toEqual([{ pid: 4, exitTime: null, big: '18446744073709551615' }]);
  });
});
