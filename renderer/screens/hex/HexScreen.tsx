/**
 * The hex view: the hex widget (HexGrid) over one space, the structure laid over it as a provider,
 * the field list beside it, Go to, the virtual / physical switch with the DTB it translates through,
 * Back / Forward (Alt+← / Alt+→) and copy of the selection.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import type { SpaceRef, StructDump } from '../../../common/contract.js';
import { useApp, useAppStore } from '../../store/context.js';
import { useApi, useViews } from '../../store/views-context.js';
import { processTitle, type HexPlace } from '../../store/views-store.js';
import { addressProblem, addressToRow, isVirtual, parseGoTo, pointerProblem, rowCount, rowToAddress, toHex } from './address.js';
import { asCArray, asHex, asWinDbg } from './copy.js';
import { FieldTable, type LinkTarget, type ListHead } from './FieldList.js';
import { HexGrid } from './HexGrid.js';
import { PageCache, spaceKey } from './page-cache.js';
import { fieldAt, selectionHighlight, selectionRange, structOverlay, structTooltip, type Selection } from './providers.js';

const spaceWords = (s: SpaceRef): string => (s.kind === 'physical' ? 'physical memory' : s.kind === 'kernel' ? 'kernel virtual memory' : 'process virtual memory');

/** The DKOM tell-tale: an _EPROCESS whose ActiveProcessLinks point back at themselves. */
function selfLinked(dump: StructDump, base: bigint): string | null {
  if (dump.type !== '_EPROCESS') return null;
  const f = dump.fields.find((x) => x.name === 'ActiveProcessLinks');
  if (!f || f.value.kind !== 'list-entry') return null;
  const at = base + BigInt(f.offset);
  if (BigInt(f.value.flink) !== at || BigInt(f.value.blink) !== at) return null;
  return `ActiveProcessLinks points to this _EPROCESS itself (Flink = Blink = ${toHex(at)}): the process was unlinked from the active process list, the DKOM way of hiding a process from pslist and Task Manager.`;
}

/** What the hex view asks once per session (type names, list heads), kept across its mounts. */
const perSession = new Map<string, { types: string[]; listHeads: ReadonlyMap<string, ListHead> }>();

export function HexScreen() {
  const api = useApi();
  const session = useApp((s) => s.session);
  const appStore = useAppStore();
  const place = useViews((s) => s.hex.place);
  const canBack = useViews((s) => s.hex.back.length > 0);
  const canForward = useViews((s) => s.hex.forward.length > 0);
  const go = useViews((s) => s.go);
  const goBack = useViews((s) => s.goBack);
  const goForward = useViews((s) => s.goForward);
  const openProcess = useViews((s) => s.openProcess);

  const [version, setVersion] = useState(0);
  const [top, setTop] = useState(0);
  const [message, setMessage] = useState<string | null>(null);
  const [dump, setDump] = useState<StructDump | null>(null);
  const [hoveredField, setHoveredField] = useState(-1);
  const [selection, setSelection] = useState<Selection | null>(null);
  const [types, setTypes] = useState<string[]>([]);
  const [listHeads, setListHeads] = useState<ReadonlyMap<string, ListHead>>(new Map());
  const gotoRef = useRef<HTMLInputElement>(null);
  const typeRef = useRef<HTMLInputElement>(null);

  const sessionId = session?.sessionId ?? '';
  const space: SpaceRef = place?.space ?? { kind: 'kernel' };
  const physSize = session?.source.size ?? 0;
  const base = place ? BigInt(place.address) : 0n;

  const cache = useMemo(() => {
    if (!api || !sessionId) return null;
    let pending = false;
    return new PageCache(api, sessionId, space, () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => { pending = false; setVersion((v) => v + 1); });
    });
    // one cache per space of this session
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, sessionId, spaceKey(space)]);

  // a new place: scroll to it, lay its type
  useEffect(() => {
    if (!place) return;
    setTop(Math.max(0, addressToRow(place.space, BigInt(place.address))));
    setMessage(null);
    setSelection(null);
    setDump(null);
    setHoveredField(-1);
    performance.mark('memscope:hex-place');
    if (!place.type || !api) return;
    let live = true;
    void api.layStruct({ sessionId, space: place.space, type: place.type, address: place.address }).then((r) => {
      if (!live) return;
      if (r.ok) setDump(r.value);
      else setMessage(`Cannot lay ${place.type} at ${place.address}: ${r.error.message}`);
    });
    return () => { live = false; };
  }, [place, api, sessionId]);

  // the type picker's names and the list heads a Flink may point at, asked once per session
  useEffect(() => {
    if (!api || !sessionId) return;
    const known = perSession.get(sessionId);
    if (known) { setTypes(known.types); setListHeads(known.listHeads); return; }
    void (async () => {
      const [t, h] = await Promise.all([api.listTypes({ sessionId }), api.resolveSymbol({ sessionId, name: 'PsActiveProcessHead' })]);
      const heads = new Map<string, ListHead>();
      if (h.ok) {
        // the profile's ActiveProcessLinks offset: any _EPROCESS laid anywhere lists its fields' offsets
        const layout = await api.layStruct({ sessionId, space: { kind: 'kernel' }, type: '_EPROCESS', address: h.value.address });
        const apl = layout.ok ? layout.value.fields.find((f) => f.name === 'ActiveProcessLinks') : undefined;
        if (apl) heads.set(h.value.address, { name: 'nt!PsActiveProcessHead', container: '_EPROCESS', field: 'ActiveProcessLinks', linkOffset: apl.offset });
      }
      const entry = { types: t.ok ? t.value.types : [], listHeads: heads };
      perSession.set(sessionId, entry);
      setTypes(entry.types);
      setListHeads(entry.listHeads);
    })();
  }, [api, sessionId]);

  // Alt+← / Alt+→: history
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (!e.altKey) return;
      if (e.key === 'ArrowLeft') { e.preventDefault(); goBack(); }
      else if (e.key === 'ArrowRight') { e.preventDefault(); goForward(); }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [goBack, goForward]);

  const rows = rowCount(space, physSize);
  const addressOf = useCallback((r: number) => rowToAddress(space, r), [space]);
  const byteAt = useCallback((a: bigint) => (cache ? cache.byte(a) : null), [cache]);
  const onVisible = useCallback((start: bigint, end: bigint) => cache?.wantRange(start, end), [cache]);

  const highlights = useMemo(() => {
    const hs = [selectionHighlight(selection)];
    if (dump) hs.unshift(structOverlay(dump, base, hoveredField));
    return hs;
  }, [dump, base, hoveredField, selection]);
  const tooltips = useMemo(() => (dump ? [structTooltip(dump, base)] : []), [dump, base]);
  const onHoverByte = useCallback((a: bigint | null) => {
    if (!dump) return;
    setHoveredField(a === null ? -1 : fieldAt(dump, base, a));
  }, [dump, base]);

  /** A field picked in the list: its bytes selected and scrolled into view (a few rows of context above). */
  const pickField = (i: number): void => {
    const f = dump?.fields[i];
    if (!f) return;
    const start = base + BigInt(f.offset);
    setSelection({ anchor: start, focus: start + BigInt(Math.max(f.size, 1) - 1) });
    setTop(Math.max(0, addressToRow(space, start) - 2));
  };

  /** Follow a link: only to where bytes can be read; otherwise say why, and stay. */
  const follow = async (t: LinkTarget): Promise<void> => {
    const why = pointerProblem(t.address);
    if (why) { setMessage(`${t.label} cannot be followed: ${why}.`); return; }
    if (!api) return;
    const r = await api.readMemory({ sessionId, space, address: toHex(t.address), length: 16 });
    if (!r.ok) { setMessage(`${t.label} cannot be followed: ${r.error.message}`); return; }
    const bad = r.value.spans.find((s) => !s.readable);
    if (bad && bad.offset === 0) { setMessage(`${t.label} cannot be followed: ${toHex(t.address)} is ${bad.status} (${bad.reason}).`); return; }
    const proc = t.type === '_EPROCESS' ? [...appStore.getState().rows.values()].find((row) => row.psxview.offset === toHex(t.address)) : undefined;
    if (proc) openProcess(proc);
    else go({ space, address: toHex(t.address), type: t.type, title: t.title });
  };

  const onGoTo = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    const text = gotoRef.current?.value ?? '';
    const g = parseGoTo(text);
    if (g.kind === 'error') { setMessage(g.message); return; }
    if (g.kind === 'pid') {
      const row = [...appStore.getState().rows.values()].find((r) => r.psxview.pid === g.pid);
      if (!row) { setMessage(`No process with PID ${g.pid} in this image's process list.`); return; }
      openProcess(row);
      return;
    }
    if (g.kind === 'symbol') {
      if (!api) return;
      const r = await api.resolveSymbol({ sessionId, name: g.name });
      if (!r.ok) { setMessage(r.error.message); return; }
      const sp: SpaceRef = isVirtual(space) ? space : { kind: 'kernel' };
      go({ space: sp, address: r.value.address, type: r.value.name === 'PsActiveProcessHead' ? '_LIST_ENTRY' : null, title: `nt!${r.value.name}` });
      return;
    }
    const why = addressProblem(space, g.address, physSize);
    if (why) { setMessage(`Cannot go to ${text.trim()}: ${why}.`); return; }
    go({ space, address: toHex(g.address), type: null, title: null });
  };

  const layType = (e: FormEvent): void => {
    e.preventDefault();
    const t = typeRef.current?.value.trim() ?? '';
    if (!t) return;
    if (!types.includes(t)) { setMessage(`The profile has no type ${t}.`); return; }
    const at = selection ? selectionRange(selection).start : base;
    go({ space, address: toHex(at), type: t, title: `${t} at ${toHex(at)}` });
  };

  const switchSpace = (kind: 'virtual' | 'physical'): void => {
    if (!place || (kind === 'physical') === (space.kind === 'physical')) return;
    const row = [...appStore.getState().rows.values()].find((r) => r.psxview.offset === place.address);
    if (kind === 'physical') {
      const pa = row?.process?.physicalOffset;
      go(pa ? { space: { kind: 'physical' }, address: pa, type: place.type, title: `${processTitle(row!)}, physical` } : { space: { kind: 'physical' }, address: '0x0', type: null, title: null });
    } else if (row) openProcess(row);
    else go({ space: { kind: 'kernel' }, address: session?.kernel.kernelBase ?? '0x0', type: null, title: 'kernel image base' });
  };

  const selectedBytes = (): { start: bigint; bytes: (number | null)[] } | null => {
    if (!selection || !cache) return null;
    const { start, end } = selectionRange(selection);
    const n = Math.min(Number(end - start), 64 * 1024);
    const bytes: (number | null)[] = [];
    for (let i = 0; i < n; i++) { const b = cache.byte(start + BigInt(i)); bytes.push(b && 'value' in b ? b.value : null); }
    return { start, bytes };
  };
  const copy = (how: 'hex' | 'c' | 'db'): void => {
    const s = selectedBytes();
    if (!s) { setMessage('Select bytes first (drag over them; Shift+click extends).'); return; }
    const text = how === 'hex' ? asHex(s.bytes) : how === 'c' ? asCArray(s.bytes, s.start) : asWinDbg(s.start, s.bytes.length, space.kind === 'physical');
    void navigator.clipboard?.writeText(text).then(() => setMessage(`Copied ${s.bytes.length} bytes as ${how === 'hex' ? 'hex' : how === 'c' ? 'a C array' : 'a WinDbg command'}.`), () => setMessage('The clipboard refused the copy.'));
  };

  // the field pane and the type list do not change while the bytes scroll: built once per dump / hover
  const followRef = useRef(follow);
  followRef.current = follow;
  const pickRef = useRef(pickField);
  pickRef.current = pickField;
  const fieldPane = useMemo(() => (dump ? (
    <FieldTable
      dump={dump} base={base} hovered={hoveredField} onHover={setHoveredField} onFollow={(t) => void followRef.current(t)} onPick={(i) => pickRef.current(i)}
      listHeads={listHeads} api={api} sessionId={sessionId} space={space}
    />
    // eslint-disable-next-line react-hooks/exhaustive-deps
  ) : null), [dump, base, hoveredField, listHeads, api, sessionId, spaceKey(space)]);
  const typeOptions = useMemo(() => <datalist id="profile-types">{types.map((t) => <option key={t} value={t} />)}</datalist>, [types]);

  const dtb = space.kind === 'physical' ? null : space.kind === 'process' ? space.dtb : (session?.kernel.dtbRaw ?? null);
  const dkom = dump ? selfLinked(dump, base) : null;

  return (
    <section className="hex-screen" aria-label="Hex view">
      <form className="hex-toolbar" onSubmit={(e) => void onGoTo(e)}>
        <button type="button" onClick={goBack} disabled={!canBack} title="Back (Alt+←)">← Back</button>
        <button type="button" onClick={goForward} disabled={!canForward} title="Forward (Alt+→)">Forward →</button>
        <input ref={gotoRef} className="goto mono" aria-label="Go to address" placeholder="Go to: 0x…, fffff802`0a600000, nt!PsActiveProcessHead, pid 4" />
        <button type="submit">Go</button>
        <span className="space-switch" role="radiogroup" aria-label="Address space">
          <label><input type="radio" name="space" checked={space.kind !== 'physical'} onChange={() => switchSpace('virtual')} /> Virtual</label>
          <label><input type="radio" name="space" checked={space.kind === 'physical'} onChange={() => switchSpace('physical')} /> Physical</label>
        </span>
        <span className="hex-copy">
          <button type="button" onClick={() => copy('hex')}>Copy hex</button>
          <button type="button" onClick={() => copy('c')}>Copy C</button>
          <button type="button" onClick={() => copy('db')}>Copy db</button>
        </span>
      </form>
      <header className="hex-header">
        <h2>{place ? (place.title ?? `${place.address}`) : 'Hex view'}</h2>
        {place && <span className="mono">{place.type ? `${place.type} at ` : ''}{place.address}</span>}
        <span className="muted">{spaceWords(space)}{dtb ? <> through DTB <span className="mono">{dtb}</span></> : ''}</span>
      </header>
      {dkom && <p className="dkom-callout" role="alert"><strong>Hidden process.</strong> {dkom}</p>}
      {message && <p className="hex-message" role="status">{message} <button type="button" className="link-button" onClick={() => setMessage(null)}>Dismiss</button></p>}
      {!place ? (
        <p className="empty-view">Select a process and press Enter, double-click it or use "Hex view"; or Go to an address, a symbol or a PID.</p>
      ) : (
        <div className="hex-body">
          <HexGrid
            label={`Bytes of ${spaceWords(space)}`} rows={rows} top={top} onTop={setTop} addressOf={addressOf} virtual={isVirtual(space)}
            byteAt={byteAt} onVisible={onVisible} highlights={highlights} tooltips={tooltips} selection={selection} onSelect={setSelection}
            onHover={onHoverByte} version={version}
          />
          <aside className="field-pane" aria-label="Structure fields">
            <form className="lay-type" onSubmit={layType}>
              <input ref={typeRef} list="profile-types" aria-label="Type to lay" placeholder="Lay type at selection (e.g. _EPROCESS)" className="mono" />
              {typeOptions}
              <button type="submit">Lay</button>
            </form>
            {dump ? (
              <>
                <h3>{dump.type} <span className="muted mono">{dump.size} bytes at {dump.address}</span></h3>
                {dump.missing.length > 0 && <p className="muted">Unreadable fields: {dump.missing.join(', ')}</p>}
                {fieldPane}
              </>
            ) : <p className="muted">{place.type ? `Laying ${place.type}…` : 'No type laid here. Type one above to lay it at the selection.'}</p>}
          </aside>
        </div>
      )}
    </section>
  );
}

export type { HexPlace };
