/**
 * The hex view: the hex widget (HexGrid) over one space, the structure laid over it as a provider,
 * the field list beside it, Go to, the virtual / physical switch with the DTB it translates through,
 * Back / Forward (Alt+← / Alt+→) and copy of the selection.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent, type KeyboardEvent as ReactKeyboardEvent } from 'react';
import type { SpaceRef, StructDump } from '../../../common/contract.js';
import { useApp, useAppStore } from '../../store/context.js';
import { bytes } from '../../components/format.js';
import { useApi, useViews } from '../../store/views-context.js';
import { processPlace, processTitle, type HexPlace } from '../../store/views-store.js';
import { addressProblem, addressToRow, isVirtual, parseGoTo, pointerProblem, rowCount, rowToAddress, toHex } from './address.js';
import { asCArray, asHex, asWinDbg } from './copy.js';
import { FieldTable, type LinkTarget, type ListHead } from './FieldList.js';
import { HexGrid } from './HexGrid.js';
import { pageCacheFor, spaceKey } from './page-cache.js';
import { fieldAt, selectionHighlight, selectionRange, structOverlay, structTooltip, type Selection } from './providers.js';
import { layAt, laidNow, mappedRangesOf, placeKey, whereIn, type SpaceRanges } from './view-cache.js';

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
  const imageTime = session?.time ?? null;
  const appStore = useAppStore();
  const place = useViews((s) => s.hex.place);
  const canBack = useViews((s) => s.hex.back.length > 0);
  const canForward = useViews((s) => s.hex.forward.length > 0);
  const go = useViews((s) => s.go);
  const goBack = useViews((s) => s.goBack);
  const goForward = useViews((s) => s.goForward);
  const openProcess = useViews((s) => s.openProcess);

  const [version, setVersion] = useState(0);
  const [top, setTop] = useState(() => (place ? Math.max(0, addressToRow(place.space, BigInt(place.address))) : 0));
  const [message, setMessage] = useState<string | null>(null);
  /** The laid type's answer, for the place it was asked for (a new place shows an answer already in at once). */
  const [laidState, setLaid] = useState<{ key: string; dump: StructDump } | null>(null);
  const [ranges, setRanges] = useState<SpaceRanges | null>(null);
  const [hoveredField, setHoveredField] = useState(-1);
  const [selection, setSelection] = useState<Selection | null>(null);
  const [types, setTypes] = useState<string[]>([]);
  /** The type picker's ~2000 names become options once the picker is used, not on every mount. */
  const [typesWanted, setTypesWanted] = useState(false);
  const [listHeads, setListHeads] = useState<ReadonlyMap<string, ListHead>>(new Map());
  const gotoRef = useRef<HTMLInputElement>(null);
  const typeRef = useRef<HTMLInputElement>(null);

  const sessionId = session?.sessionId ?? '';
  const space: SpaceRef = place?.space ?? { kind: 'kernel' };
  const physSize = session?.source.size ?? 0;
  const base = place ? BigInt(place.address) : 0n;

  // one page cache per space of this session, kept across mounts (pageCacheFor)
  const cache = useMemo(() => (api && sessionId ? pageCacheFor(api, sessionId, space, physSize) : null),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [api, sessionId, spaceKey(space), physSize]);
  useEffect(() => {
    if (!cache) return;
    let pending = false;
    // pages that arrive within one frame repaint once
    return cache.subscribe(() => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => { pending = false; setVersion((v) => v + 1); });
    });
  }, [cache]);

  // a new place's first page and its type are asked for while its first frame renders: the page
  // first (the page cache sends it in a microtask, before this one), it is the cheaper answer
  const key = place && sessionId ? placeKey(sessionId, place) : '';
  const asked = useRef('');
  if (place && cache && asked.current !== key) {
    asked.current = key;
    cache.wantRange(BigInt(place.address), BigInt(place.address) + 1n, 0);
    if (place.type && api) { const p = { ...place, type: place.type }; queueMicrotask(() => void layAt(api, sessionId, p)); }
  }
  const ready = place && sessionId ? laidNow(sessionId, place) : undefined;
  const dump: StructDump | null = laidState?.key === key ? laidState.dump : ready?.ok ? ready.value : null;

  // a new place is scrolled to in the render that shows it (an effect would paint one frame of the
  // old rows in the new space, and ask for their pages)
  const [placeShown, setPlaceShown] = useState(place);
  if (place !== placeShown) {
    setPlaceShown(place);
    if (place) setTop(Math.max(0, addressToRow(place.space, BigInt(place.address))));
  }

  // a new place: a clean slate, its type laid
  useEffect(() => {
    if (!place) return;
    setMessage(null);
    setSelection(null);
    setHoveredField(-1);
    if (!place.type || !api) return;
    let live = true;
    const p = { ...place, type: place.type };
    // a microtask: this effect may run within the render's task, before the page read is sent
    queueMicrotask(() => void layAt(api, sessionId, p).then((r) => {
      if (!live) return;
      if (r.ok) setLaid({ key: placeKey(sessionId, p), dump: r.value });
      else setMessage(`Cannot lay ${p.type} at ${p.address}: ${r.error.message}`);
    }));
    return () => { live = false; };
  }, [place, api, sessionId]);

  // the space's mapped ranges, asked once per space (view-cache.ts): the scrollbar's marks, N / P
  useEffect(() => {
    setRanges(null);
    if (!api || !sessionId) return;
    let live = true;
    // not on the first frame's path: asked once the place's own answers had their turn
    const timer = setTimeout(() => void mappedRangesOf(api, sessionId, space, physSize).then((r) => { if (live) setRanges(typeof r === 'string' ? null : r); }), 250);
    return () => { live = false; clearTimeout(timer); };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, sessionId, spaceKey(space), physSize]);

  // the type picker's names and the list heads a Flink may point at, asked once per session
  useEffect(() => {
    if (!api || !sessionId) return;
    const known = perSession.get(sessionId);
    if (known) { setTypes(known.types); setListHeads(known.listHeads); return; }
    let live = true;
    // after the first place has painted: these answers are not on the first frame's path
    const timer = setTimeout(() => void (async () => {
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
      if (!live) return;
      setTypes(entry.types);
      setListHeads(entry.listHeads);
    })(), 400);
    return () => { live = false; clearTimeout(timer); };
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
  const topAddress = rowToAddress(space, Math.min(top, Math.max(0, rows - 1)));
  const where = ranges ? whereIn(ranges.ranges, topAddress) : null;
  const marks = useMemo(() => ranges?.ranges.map((r) => ({ from: addressToRow(space, r.start) / rows, to: addressToRow(space, r.end) / rows })),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [ranges, rows, spaceKey(space)]);
  /** Next / previous mapped range (N / P on the bytes): a place of its own, so Back returns. */
  const jumpMapped = (dir: 'next' | 'prev'): void => {
    if (!ranges || !where) { setMessage('The mapped ranges of this space are still being listed.'); return; }
    const to = dir === 'next' ? where.next : (where.inside && where.inside.start < topAddress ? where.inside : where.prev);
    if (!to) {
      setMessage(dir === 'next'
        ? (ranges.truncated ? 'More mapped ranges exist than were listed; Go to an address past the last one.' : `No mapped range after ${toHex(topAddress)} in ${spaceWords(space)}.`)
        : `No mapped range before ${toHex(topAddress)} in ${spaceWords(space)}.`);
      return;
    }
    go({ space, address: toHex(to.start), type: null, title: `mapped range ${toHex(to.start)}–${toHex(to.end)}` });
  };
  const onGridKey = (e: ReactKeyboardEvent<HTMLDivElement>): void => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === 'n' || e.key === 'N') { e.preventDefault(); jumpMapped('next'); }
    else if (e.key === 'p' || e.key === 'P') { e.preventDefault(); jumpMapped('prev'); }
  };
  const gap = where && !where.inside && ranges ? { from: where.prev?.end ?? null, to: where.next?.start ?? null } : null;

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
    // where it lands: a listed process opens in its own space, named; anything else in this space
    const proc = t.type === '_EPROCESS' ? [...appStore.getState().rows.values()].find((row) => row.psxview.offset === toHex(t.address)) : undefined;
    // a pointer holds a virtual address: one read in physical memory is followed in the kernel's space
    const along: SpaceRef = space.kind === 'physical' ? { kind: 'kernel' } : space;
    const to: HexPlace = (proc && processPlace(proc)) ?? { space: along, address: toHex(t.address), type: t.type, title: t.title };
    // the target's page (which says whether it can be read) and its type, asked together: the new
    // view then paints from answers already in
    const pages = pageCacheFor(api, sessionId, to.space, physSize);
    const [page] = await Promise.all([pages.load(t.address), to.type ? layAt(api, sessionId, { ...to, type: to.type }) : null]);
    if (page.kind === 'error') { setMessage(`${t.label} cannot be followed: ${page.message}`); return; }
    const off = Number(t.address & 0xfffn);
    const bad = page.spans.find((s) => !s.readable && off >= s.offset && off < s.offset + s.length);
    if (bad) { setMessage(`${t.label} cannot be followed: ${toHex(t.address)} is ${bad.status} (${bad.reason}).`); return; }
    go(to);
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
      if (pa) { go({ space: { kind: 'physical' }, address: pa, type: place.type, title: `${processTitle(row!)}, physical` }); return; }
      void toPhysical(selection ? selectionRange(selection).start : BigInt(place.address));
    } else if (row) openProcess(row);
    else go({ space: { kind: 'kernel' }, address: session?.kernel.kernelBase ?? '0x0', type: null, title: 'kernel image base' });
  };

  /** Virtual → physical for any address: through this space's DTB (the kernel's for kernel addresses); unmapped: say so and stay. */
  const toPhysical = async (va: bigint): Promise<void> => {
    if (!api || !place) return;
    const r = await api.translateAddress({ sessionId, space, address: toHex(va) });
    if (!r.ok) { setMessage(`Cannot switch to physical memory: ${r.error.message}`); return; }
    const through = r.value.dtb ? ` through DTB ${r.value.dtb}` : '';
    if (r.value.pa === null) { setMessage(`${toHex(va)} is not mapped to physical memory${through} (${r.value.status}: ${r.value.reason}); staying in ${spaceWords(space)}.`); return; }
    const at = va === BigInt(place.address) && place.type ? `${place.type} ` : '';
    go({ space: { kind: 'physical' }, address: r.value.pa, type: va === BigInt(place.address) ? place.type : null, title: `${at}${toHex(va)}, physical (translated${through})` });
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
      key={`${dump.type}@${dump.address}`} dump={dump} base={base} hovered={hoveredField} onHover={setHoveredField} onFollow={(t) => void followRef.current(t)} onPick={(i) => pickRef.current(i)}
      listHeads={listHeads} api={api} sessionId={sessionId} space={space} time={imageTime}
    />
    // eslint-disable-next-line react-hooks/exhaustive-deps
  ) : null), [dump, base, hoveredField, listHeads, api, sessionId, spaceKey(space), imageTime]);
  const typeOptions = useMemo(() => <datalist id="profile-types">{typesWanted ? types.map((t) => <option key={t} value={t} />) : null}</datalist>, [types, typesWanted]);

  // the toolbar and the type form do not change while the bytes scroll: built once per state they
  // show, their handlers read through a ref (a scroll frame re-renders the bytes, not the inputs)
  const act = useRef({ onGoTo, switchSpace, jumpMapped, copy, layType });
  act.current = { onGoTo, switchSpace, jumpMapped, copy, layType };
  const physicalNow = space.kind === 'physical';
  const toolbar = useMemo(() => (
      <form className="hex-toolbar" onSubmit={(e) => void act.current.onGoTo(e)}>
        <button type="button" onClick={goBack} disabled={!canBack} title="Back (Alt+←)">← Back</button>
        <button type="button" onClick={goForward} disabled={!canForward} title="Forward (Alt+→)">Forward →</button>
        <input ref={gotoRef} className="goto mono" aria-label="Go to address" placeholder="Go to: 0x…, fffff802`0a600000, nt!PsActiveProcessHead, pid 4" />
        <button type="submit">Go</button>
        <span className="space-switch" role="radiogroup" aria-label="Address space">
          <label><input type="radio" name="space" checked={!physicalNow} onChange={() => act.current.switchSpace('virtual')} /> Virtual</label>
          <label><input type="radio" name="space" checked={physicalNow} onChange={() => act.current.switchSpace('physical')} /> Physical</label>
        </span>
        <span className="hex-copy">
          <button type="button" onClick={() => act.current.jumpMapped('prev')} title="Previous mapped range (P on the bytes)">◂ Mapped</button>
          <button type="button" onClick={() => act.current.jumpMapped('next')} title="Next mapped range (N on the bytes)">Mapped ▸</button>
        </span>
        <span className="hex-copy">
          <button type="button" onClick={() => act.current.copy('hex')}>Copy hex</button>
          <button type="button" onClick={() => act.current.copy('c')}>Copy C</button>
          <button type="button" onClick={() => act.current.copy('db')}>Copy db</button>
        </span>
      </form>
  ), [canBack, canForward, physicalNow, goBack, goForward]);
  const layForm = useMemo(() => (
            <form className="lay-type" onSubmit={(e) => act.current.layType(e)}>
              <input ref={typeRef} list="profile-types" aria-label="Type to lay" placeholder="Lay type at selection (e.g. _EPROCESS)" className="mono" onFocus={() => setTypesWanted(true)} />
              {typeOptions}
              <button type="submit">Lay</button>
            </form>
  ), [typeOptions]);

  const dtb = space.kind === 'physical' ? null : space.kind === 'process' ? space.dtb : (session?.kernel.dtbRaw ?? null);
  const dkom = dump ? selfLinked(dump, base) : null;

  return (
    <section className="hex-screen" aria-label="Hex view">
      {toolbar}
      <header className="hex-header">
        <h2>{place ? (place.title ?? `${place.address}`) : 'Hex view'}</h2>
        {place && <span className="mono">{place.type ? `${place.type} at ` : ''}{place.address}</span>}
        <span className="muted">{spaceWords(space)}{dtb ? <> through DTB <span className="mono">{dtb}</span></> : ''}</span>
      </header>
      {dkom && <p className="dkom-callout" role="alert"><strong>Hidden process.</strong> {dkom}</p>}
      {place && gap && (
        <p className="hex-gap">
          Not in memory: no page of {spaceWords(space)} is mapped to RAM from {gap.from === null ? 'the start' : toHex(gap.from)} to {gap.to === null ? (ranges?.truncated ? 'past the listed ranges' : 'the end') : toHex(gap.to)}
          {gap.to !== null && gap.from !== null ? ` (${bytes(Number(gap.to - gap.from))})` : ''} — unmapped or paged out (the ?? say which). <strong>N</strong>: next mapped range{gap.to === null ? ' (none)' : ''}, <strong>P</strong>: previous{gap.from === null ? ' (none)' : ''}.
        </p>
      )}
      {message && <p className="hex-message" role="status">{message} <button type="button" className="link-button" onClick={() => setMessage(null)}>Dismiss</button></p>}
      {!place ? (
        <p className="empty-view">Select a process and press Enter, double-click it or use "Hex view"; or Go to an address, a symbol or a PID.</p>
      ) : (
        <div className="hex-body">
          <HexGrid
            label={`Bytes of ${spaceWords(space)}`} rows={rows} top={top} onTop={setTop} addressOf={addressOf} virtual={isVirtual(space)}
            byteAt={byteAt} onVisible={onVisible} highlights={highlights} tooltips={tooltips} selection={selection} onSelect={setSelection}
            onHover={onHoverByte} version={version} marks={marks} onOtherKey={onGridKey}
          />
          <aside className="field-pane" aria-label="Structure fields">
            {layForm}
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
