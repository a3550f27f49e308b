/**
 * What the hex widget asks of the rest of the view, as ImHex's hex editor asks its registered
 * providers: highlights over address ranges and tooltips at an address. The widget knows nothing of
 * structures; the structure overlay, the hovered field and the selection are providers.
 */
import type { StructDump } from '../../../common/contract.js';

export interface Highlight {
  readonly start: bigint;
  /** Exclusive. */
  readonly end: bigint;
  readonly className: string;
}

export interface HighlightProvider {
  /** Highlights overlapping [start, end). */
  (start: bigint, end: bigint): readonly Highlight[];
}

export type TooltipProvider = (address: bigint) => string | null;

export interface Selection { readonly anchor: bigint; readonly focus: bigint }
export const selectionRange = (s: Selection): { start: bigint; end: bigint } =>
  s.anchor <= s.focus ? { start: s.anchor, end: s.focus + 1n } : { start: s.focus, end: s.anchor + 1n };

/** Index of the field of `dump` that covers `address`, or -1. */
export function fieldAt(dump: StructDump, base: bigint, address: bigint): number {
  const off = Number(address - base);
  if (off < 0 || off >= dump.size) return -1;
  let hit = -1;
  for (let i = 0; i < dump.fields.length; i++) {
    const f = dump.fields[i]!;
    if (off >= f.offset && off < f.offset + Math.max(f.size, 1)) hit = i; // the last (innermost union member) wins
  }
  return hit;
}

/** The structure overlay: each field's bytes tinted (alternating), the hovered field marked. */
export function structOverlay(dump: StructDump, base: bigint, hovered: number): HighlightProvider {
  return (start, end) => {
    const out: Highlight[] = [];
    if (base + BigInt(dump.size) <= start || base >= end) return out;
    out.push({ start: base, end: base + BigInt(dump.size), className: 'hl-struct' });
    dump.fields.forEach((f, i) => {
      const s = base + BigInt(f.offset);
      const e = s + BigInt(Math.max(f.size, 1));
      if (e <= start || s >= end) return;
      out.push({ start: s, end: e, className: i === hovered ? 'hl-field-hover' : i % 2 ? 'hl-field-odd' : 'hl-field-even' });
    });
    return out;
  };
}

export function structTooltip(dump: StructDump, base: bigint): TooltipProvider {
  return (a) => {
    const i = fieldAt(dump, base, a);
    if (i < 0) return null;
    const f = dump.fields[i]!;
    return `${dump.type}.${f.name} (+${f.offsetHex}, ${f.type})`;
  };
}

export function selectionHighlight(sel: Selection | null): HighlightProvider {
  return (start, end) => {
    if (!sel) return [];
    const r = selectionRange(sel);
    return r.end <= start || r.start >= end ? [] : [{ ...r, className: 'hl-selected' }];
  };
}
