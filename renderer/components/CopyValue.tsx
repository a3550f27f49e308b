/** A value the responder may paste into a report or WinDbg: shown as is, copied with one click. */
import { useState } from 'react';

/** `shown` replaces the text on screen (a file name for its path); the full `value` is what is copied. */
export function CopyValue({ label, value, shown, mono = true, title }: { label: string; value: string | null; shown?: string; mono?: boolean; title?: string }) {
  const [copied, setCopied] = useState(false);
  if (value === null || value === '') return <span className="value muted">-</span>;
  const copy = (): void => {
    void navigator.clipboard?.writeText(value).then(() => {
      setCopied(true);
      setTimeout(() => setCopied(false), 1200);
    }, () => undefined);
  };
  return (
    <button type="button" className={`copy-value${mono ? ' mono' : ''}`} onClick={copy} title={title ?? `Copy ${label}: ${value}`} aria-label={`Copy ${label} ${value}`}>
      <span className="value">{shown ?? value}</span>
      <span className="copy-hint" aria-hidden="true">{copied ? 'copied' : 'copy'}</span>
    </button>
  );
}
