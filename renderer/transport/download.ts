/** The browser half of export in the bridge: the service returns the text, the page offers it as a download. */
import type { ExportResult } from '../../common/contract.js';

export function offerDownload(r: Extract<ExportResult, { kind: 'download' }>): void {
  const url = URL.createObjectURL(new Blob([r.text], { type: r.mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = r.fileName;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
