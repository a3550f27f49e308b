/**
 * The DTB inspector: why each process's DirBase is what it is. Discovery's DTB candidates (method,
 * PML4, self-reference index, kernel base found through it, which won and why) above one row per
 * process (pslist ∪ psscan, the `dtb` plugin's run, kept per session): DirBase split into PML4 frame
 * and low bits (PCID on Windows 10+), the KVA-shadow user DTB, whether the kernel half matches
 * System's, the self-reference index, and a verdict; and how many a page-alignment check like
 * Rekall's would have thrown away. A row opens its PML4 in the hex view (physical). Export CSV is
 * byte for byte `memscope dtb <image> --processes --format csv`.
 */
import { useMemo, useState, type KeyboardEvent } from 'react';
import type { DtbRow } from '../../../common/contract.js';
import { useApp } from '../../store/context.js';
import { useApi, useViews } from '../../store/views-context.js';
import { offerDownload } from '../../transport/download.js';

type Col = { id: keyof DtbRow | 'kernelHalf'; label: string; sortValue: (r: DtbRow) => string | number | null };

const hexNum = (h: string | null): number | null => (h === null ? null : Number(BigInt(h) & 0xffffffffffffn));

const COLUMNS: Col[] = [
  { id: 'pid', label: 'PID', sortValue: (r) => r.pid },
  { id: 'name', label: 'Name', sortValue: (r) => r.name },
  { id: 'dtb', label: 'DirBase', sortValue: (r) => hexNum(r.dtb) },
  { id: 'pml4', label: 'PML4 frame', sortValue: (r) => hexNum(r.pml4) },
  { id: 'lowBits', label: 'Low bits', sortValue: (r) => hexNum(r.lowBits) },
  { id: 'userDtb', label: 'User DTB (KVA shadow)', sortValue: (r) => hexNum(r.userDtb) },
  { id: 'kernelHalf', label: 'Kernel half = System', sortValue: (r) => r.kernelHalfMatches },
  { id: 'selfRefIndex', label: 'Self-ref', sortValue: (r) => r.selfRefIndex },
  { id: 'verdict', label: 'Verdict', sortValue: (r) => r.verdict },
];

/** One sentence: the engine's verdict, the PCID named, and what an alignment check would have done. */
export function verdictSentence(r: DtbRow): string {
  const low = r.lowBits && r.lowBits !== '0x0' ? ` (PCID ${'0x' + r.lowBits.slice(2).padStart(3, '0')})` : '';
  const drop = r.rekallWouldDrop ? ' — an alignment check like Rekall\'s would skip this process' : '';
  return `${r.verdict}${low}${drop}`;
}

/** The low bits in a few words (the full explanation is the cell's tooltip). */
function shortMeaning(r: DtbRow): string {
  if (r.lowBits === null) return r.lowBitsMeaning;
  const low = Number(BigInt(r.lowBits));
  const parts = [low === 0 ? 'page aligned' : `PCID ${low}`];
  if (r.userDtb && r.userDtb !== '0x0') parts.push('KVA shadow');
  return parts.join(', ');
}

export function DtbScreen() {
  const api = useApi();
  const session = useApp((s) => s.session);
  const dtb = useViews((s) => s.dtb);
  const discovery = useViews((s) => s.discovery);
  const go = useViews((s) => s.go);
  const [sort, setSort] = useState<{ id: Col['id']; desc: boolean } | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  const rows = useMemo(() => {
    const all = dtb ? dtb.order.map((k) => [k, dtb.rows.get(k)!] as const) : [];
    if (!sort) return all;
    const col = COLUMNS.find((c) => c.id === sort.id)!;
    return [...all].sort((a, b) => {
      const x = col.sortValue(a[1]), y = col.sortValue(b[1]);
      const c = x === null ? 1 : y === null ? -1 : x < y ? -1 : x > y ? 1 : 0;
      return sort.desc ? -c : c;
    });
  }, [dtb, sort]);

  const dropped = rows.filter(([, r]) => r.rekallWouldDrop).length;
  const open = (r: DtbRow): void => {
    if (!r.pml4) { setMessage(`${r.name ?? 'This process'}: DirectoryTableBase could not be read, so there is no PML4 to show.`); return; }
    go({ space: { kind: 'physical' }, address: r.pml4, type: null, title: `PML4 of ${r.name ?? 'unnamed'}${r.pid === null ? '' : ` (PID ${r.pid})`}, DirBase ${r.dtb}` });
  };
  const onKey = (e: KeyboardEvent<HTMLTableRowElement>, r: DtbRow): void => { if (e.key === 'Enter') open(r); };
  const exportCsv = async (): Promise<void> => {
    if (!api || !session) return;
    const r = await api.exportTable({ sessionId: session.sessionId, table: 'dtb', format: 'csv', keys: null });
    if (!r.ok) { setMessage(r.error.message); return; }
    if (r.value.kind === 'download') offerDownload(r.value);
    else if (r.value.kind === 'saved') setMessage(`Exported CSV to ${r.value.path}`);
  };

  const state = dtb?.state ?? 'starting';
  return (
    <section className="dtb-screen" aria-label="DTB inspector">
      <div className="dtb-top">
        <p className="dtb-count" role="status">
          {state === 'running' || state === 'starting'
            ? 'Inspecting DirBases (pslist and psscan first)…'
            : <><strong>{dropped}</strong> of {rows.length} processes would be dropped by a page-alignment check like Rekall&apos;s (DirBase low bits set: PCID / KVA shadow, valid on Windows 10+).</>}
        </p>
        <button type="button" onClick={() => void exportCsv()} disabled={state !== 'completed'} title="The DTB table as `memscope dtb <image> --processes --format csv` writes it">Export CSV (DTB table)</button>
      </div>
      {dtb?.error && <p className="hex-message" role="alert">{dtb.error}</p>}
      {message && <p className="hex-message" role="status">{message}</p>}
      <details className="dtb-discovery" open>
        <summary>Kernel DTB discovery: {discovery?.report ? `${discovery.report.candidates.length} candidates` : discovery?.error ?? 'loading…'}</summary>
        {discovery?.report && (
          <table className="dtb-candidates" aria-label="DTB candidates">
            <thead><tr><th>Method</th><th>DTB</th><th>PML4</th><th>Self-ref</th><th>Kernel base</th><th>Outcome</th><th>Evidence</th></tr></thead>
            <tbody>
              {discovery.report.candidates.map((c, i) => {
                const won = c.status === 'accepted' && c.method === discovery.report!.accepted?.dtbMethod && c.dtbRaw === discovery.report!.accepted.dtbRaw;
                return (
                <tr key={i} className={won ? 'won' : undefined}>
                  <td>{c.method}</td>
                  <td className="mono">{c.dtbRaw}</td>
                  <td className="mono">{c.pml4}</td>
                  <td className="mono">{c.selfRefIndex ?? '-'}</td>
                  <td className="mono">{c.kernelBase ?? '-'}</td>
                  <td>{won ? <strong>won</strong> : c.status === 'accepted' ? 'also valid' : c.status}{c.validation.length ? `: ${c.validation.join('; ')}` : ''}</td>
                  <td>{c.evidence.join('; ')}</td>
                </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </details>
      <div className="dtb-table-scroll">
        <table className="dtb-table" aria-label="Process DirBases">
          <thead>
            <tr>
              {COLUMNS.map((c) => (
                <th key={c.id} aria-sort={sort?.id === c.id ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
                  <button type="button" className="sort-button" onClick={() => setSort(sort?.id === c.id ? (sort.desc ? null : { id: c.id, desc: true }) : { id: c.id, desc: false })}>
                    {c.label}{sort?.id === c.id ? (sort.desc ? ' ▼' : ' ▲') : ''}
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map(([key, r]) => (
              <tr key={key} tabIndex={0} className={r.rekallWouldDrop ? 'would-drop' : undefined} onDoubleClick={() => open(r)} onKeyDown={(e) => onKey(e, r)} title="Enter or double-click: open its PML4 in the hex view">
                <td className="mono">{r.pid ?? '-'}</td>
                <td>{r.name ?? '-'}</td>
                <td className="mono">{r.dtb ?? '-'}</td>
                <td className="mono"><button type="button" className="ptr-link mono" aria-label={`Open PML4 of ${r.name ?? 'unnamed'} ${r.pml4 ?? ''}`} onClick={() => open(r)}>{r.pml4 ?? '-'}</button></td>
                <td title={r.lowBitsMeaning}><span className="mono">{r.lowBits ?? '-'}</span> <span className="muted low-meaning">{shortMeaning(r)}</span></td>
                <td className="mono">{r.userDtb ?? '-'}</td>
                <td>{r.kernelHalfMatchesSystem === null ? '-' : `${r.kernelHalfMatchesSystem ? 'yes' : 'NO'} (${r.kernelHalfMatches}/${r.kernelHalfTotal})`}</td>
                <td className="mono">{r.selfRefIndex ?? 'none'}</td>
                <td className="dtb-verdict">{verdictSentence(r)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
