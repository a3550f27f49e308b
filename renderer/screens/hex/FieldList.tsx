/**
 * The structure's fields beside the bytes: offset, name, type, decoded value (times as UTC, strings
 * through their buffer, _LIST_ENTRY as Flink / Blink, enums named, nested structures expandable).
 * Pointers are buttons named after their field ("ActiveProcessLinks.Flink"); a _LIST_ENTRY link lands
 * on the containing structure (Flink − the field's offset). Hovering a field tells the view, which
 * highlights its bytes; hovering bytes marks the field here.
 */
import { useDeferredValue, useState } from 'react';
import type { ImageTime, MemScopeApi, SpaceRef, StructDump, StructField } from '../../../common/contract.js';
import { againstCapture } from '../../components/capture-time.js';
import { toHex } from './address.js';

/** A list head (nt!PsActiveProcessHead): its name, and the structure its entries are embedded in. */
export interface ListHead { readonly name: string; readonly container: string; readonly field: string; readonly linkOffset: number }

/** Where a link leads: a place to show, as the view's header will name it. */
export interface LinkTarget {
  readonly label: string;
  readonly address: bigint;
  readonly type: string | null;
  readonly title: string;
}

export interface FieldListProps {
  readonly dump: StructDump;
  readonly base: bigint;
  /** Field path prefix for nested structures ("Pcb."). */
  readonly prefix?: string;
  readonly hovered?: number;
  readonly onHover?: (i: number) => void;
  /** A field's name was clicked: show and select its bytes. */
  readonly onPick?: (i: number) => void;
  readonly onFollow: (t: LinkTarget) => void;
  /** Names the list head a Flink may point at (PsActiveProcessHead), so it is not taken for a structure. */
  readonly listHeads: ReadonlyMap<string, ListHead>;
  readonly api: MemScopeApi | null;
  readonly sessionId: string;
  readonly space: SpaceRef;
  /** The session's capture / boot time: FILETIME values say how long before the capture they are. */
  readonly time?: ImageTime | null;
}

const STRUCT_NAME = /^_[A-Z0-9_]+$/;

function Link({ label, value, target, onFollow }: { label: string; value: string; target: LinkTarget; onFollow: (t: LinkTarget) => void }) {
  return (
    <button type="button" className="ptr-link mono" aria-label={`${label} → ${value}`} title={`Follow ${label} to ${target.title}`} onClick={() => onFollow(target)}>
      {value}
    </button>
  );
}

function Value({ f, p }: { f: StructField; p: FieldListProps }) {
  const v = f.value;
  const name = `${p.prefix ?? ''}${f.name}`;
  const at = p.base + BigInt(f.offset);
  switch (v.kind) {
    case 'int': return <span className="mono">{v.value}</span>;
    case 'pointer': {
      const typed = v.target.replace(/\s*\*$/, '');
      const type = STRUCT_NAME.test(typed) ? typed : null;
      // a list head's Flink / Blink: the entry is embedded in its container (the first / last _EPROCESS)
      const head = type === '_LIST_ENTRY' ? p.listHeads.get(toHex(p.base)) : undefined;
      if (head && !p.listHeads.has(v.value) && BigInt(v.value) !== 0n) {
        const at = BigInt(v.value) - BigInt(head.linkOffset);
        return <Link label={name} value={v.value} onFollow={p.onFollow} target={{ label: name, address: at, type: head.container, title: `${head.container} at ${toHex(at)} (${name} − ${head.field} offset)` }} />;
      }
      return <Link label={name} value={v.value} onFollow={p.onFollow} target={{ label: name, address: BigInt(v.value), type, title: type ? `${type} at ${v.value}` : `bytes at ${v.value}` }} />;
    }
    case 'list-entry': {
      const link = (which: 'Flink' | 'Blink', value: string) => {
        const ptr = BigInt(value);
        const head = p.listHeads.get(value);
        if (ptr === at) return <span className="self-link">{which} {value} (points to itself)</span>;
        const target: LinkTarget = head
          ? { label: `${name}.${which}`, address: ptr, type: '_LIST_ENTRY', title: `${head.name} (the list head)` }
          : { label: `${name}.${which}`, address: ptr - BigInt(f.offset), type: p.dump.type, title: `${p.dump.type} at ${toHex(ptr - BigInt(f.offset))} (${name}.${which} − ${f.offsetHex})` };
        return <span>{which} <Link label={`${name}.${which}`} value={value} target={target} onFollow={p.onFollow} /></span>;
      };
      return <span className="list-entry">{link('Flink', v.flink)} {link('Blink', v.blink)}</span>;
    }
    case 'unicode-string':
      return v.text === null
        ? <span className="muted">not readable ({v.length} bytes at {v.buffer}: paged out or unmapped)</span>
        : <span title={`Buffer ${v.buffer}, Length ${v.length}`}>{JSON.stringify(v.text)}</span>;
    case 'filetime': {
      if (!v.iso) return <span className="muted">{v.raw} (not a time)</span>;
      const t = againstCapture(v.iso, p.time);
      return (
        <span className="mono" title={t?.text}>
          {v.iso.replace('T', ' ').replace(/\.000Z$|Z$/, '')} UTC
          {t?.relative && <span className="rel-time-inline"> · {t.relative}</span>}
          {t?.implausible && <span className="implausible-time-inline"> implausible: {t.implausible}</span>}
        </span>
      );
    }
    case 'enum': return <span>{v.name ?? 'unnamed'} <span className="muted mono">({v.value})</span></span>;
    case 'bitfield': return <span className="mono">{v.value} <span className="muted">(bits {v.bitPosition}..{v.bitPosition + v.bitLength - 1})</span></span>;
    case 'ex-fast-ref': return <span><Link label={name} value={v.object} onFollow={p.onFollow} target={{ label: name, address: BigInt(v.object), type: null, title: `object at ${v.object}` }} /> <span className="muted">refs {v.refCount}</span></span>;
    case 'string': return <span>{JSON.stringify(v.text)}</span>;
    case 'struct': return <Nested f={f} p={p} type={v.type} />;
    case 'array': return <span className="muted">[{v.count} × {v.elementType}]</span>;
    case 'unreadable': return <span className="unreadable-text">?? unreadable</span>;
  }
}

/** A nested structure, laid on demand at its field's address. */
function Nested({ f, p, type }: { f: StructField; p: FieldListProps; type: string }) {
  const [open, setOpen] = useState(false);
  const [dump, setDump] = useState<StructDump | string | null>(null);
  const at = p.base + BigInt(f.offset);
  const toggle = (): void => {
    setOpen(!open);
    if (dump !== null || !p.api) return;
    void p.api.layStruct({ sessionId: p.sessionId, space: p.space, type, address: toHex(at) }).then((r) => setDump(r.ok ? r.value : r.error.message));
  };
  const name = `${p.prefix ?? ''}${f.name}`;
  return (
    <span className="nested">
      <button type="button" className="expand" aria-expanded={open} aria-label={`Expand ${name} (${type})`} onClick={toggle}>{open ? '▾' : '▸'} {type}</button>
      {open && (dump === null ? <span className="muted"> reading…</span>
        : typeof dump === 'string' ? <span className="unreadable-text"> {dump}</span>
          : <FieldTable {...p} dump={dump} base={at} prefix={`${name}.`} hovered={-1} onHover={() => undefined} />)}
    </span>
  );
}

/** Rows in a table's first frame: more than the pane shows at 1280×720; the rest follow in a background render. */
const FIRST_ROWS = 60;

export function FieldTable(p: FieldListProps) {
  // an _EPROCESS has ~230 fields: the rows on screen paint first, React renders the others after
  // (interruptibly), so opening a structure does not wait on rows below the pane's fold
  const shown = useDeferredValue(p.dump.fields.length, Math.min(p.dump.fields.length, FIRST_ROWS));
  return (
    <table className="field-table">
      <tbody>
        {p.dump.fields.slice(0, shown).map((f, i) => (
          <tr key={`${f.name}-${f.offset}`} className={i === p.hovered ? 'field-hover' : undefined} onPointerEnter={() => p.onHover?.(i)} onPointerLeave={() => p.onHover?.(-1)}>
            <td className="mono muted f-off">+{f.offsetHex.slice(2).padStart(3, '0')}</td>
            <td className="f-name" onClick={() => p.onPick?.(i)} title="Show and select its bytes">{f.name}</td>
            <td className="mono muted f-type" title={f.type}>{f.type}</td>
            <td className="f-value"><Value f={f} p={p} /></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
