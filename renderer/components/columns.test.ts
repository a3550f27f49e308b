import { describe, expect, it } from 'vitest';
import { columns, metaOf } from './columns.js';

const meta = (id: string) => metaOf({ columnDef: columns.find((c) => c.id === id)! });

describe('which cells clip (ColumnMeta.fits)', () => {
  it('leaves short monospace values unclipped: PIDs, full timestamps, 64-bit addresses', () => {
    expect(meta('pid').fits('4')).toBe(true);
    expect(meta('pid').fits('123456')).toBe(true);
    expect(meta('createTime').fits('2023-01-12 08:00:00')).toBe(true);
    expect(meta('offset').fits('0xffffb13400000000')).toBe(true);
    expect(meta('dtb').fits('0x4e312002')).toBe(true);
  });
  it('clips monospace values longer than the column holds', () => {
    expect(meta('pid').fits('1234567890')).toBe(false);
    expect(meta('ppid').fits('1234567')).toBe(false);
    expect(meta('createTime').fits('2023-01-12 08:00:00.123')).toBe(false);
    expect(meta('offset').fits('0xffffb13400000000 (bad)')).toBe(false);
  });
  it('always clips proportional text and elements, never the one-glyph source ticks', () => {
    expect(meta('name').fits('a')).toBe(false);
    expect(meta('verdict').fits('x')).toBe(false);
    expect(meta('commandLine').fits('-')).toBe(false);
    expect(meta('offset').fits(null)).toBe(false);
    expect(meta('pslist').fits(null)).toBe(true);
  });
  it('gives each column one class string for each case', () => {
    expect(meta('pid').cellClass).toBe('cell align-right mono');
    expect(meta('pid').clipClass).toBe('cell align-right mono clip');
    expect(meta('name').cellClass).toBe('cell');
  });
});
