/**
 * `memscope info` on a crash dump that holds no analysable physical memory (a kernel triage dump,
 * or a dump of another architecture): the engine's summary as JSON or as a fact table followed by
 * the loaded-driver list.
 */
import type { CrashSummaryJson } from '../../engine/windows/triage/summary-json.js';
import { renderTable, type OutputFormat } from '../context.js';

export function renderCrashSummary(info: CrashSummaryJson, format: OutputFormat): string {
  if (format === 'json') return JSON.stringify(info, null, 2) + '\n';
  const c = info.crashDump;
  const params = c.bugCheckParameters.map((p, i) => (c.bugCheckParameterDrivers[i] ? `${p} ${c.bugCheckParameterDrivers[i]}` : p));
  const facts: [string, string][] = [
    ['path', info.path],
    ['format', info.format],
    ['machine', info.machine],
    ['build', String(info.build)],
    ['bugcheck', `${c.bugCheckCode} (${params.join(', ')})`],
    ['crash time', c.crashTime ?? 'not recorded'],
  ];
  if (c.upTimeSeconds !== null) facts.push(['up time', `${c.upTimeSeconds.toFixed(3)} s`]);
  for (const k of ['numberOfProcessors', 'dtb', 'psActiveProcessHead', 'psLoadedModuleList', 'kdDebuggerDataBlock'] as const) {
    const v = info.hints[k];
    if (v !== undefined) facts.push([k === 'numberOfProcessors' ? 'processors' : k, String(v)]);
  }
  if (info.unsupported !== undefined) facts.push(['analysis', info.unsupported]);
  const t = info.triage;
  if (t) {
    facts.push(['kernel base', t.kernelBase === null ? 'unknown' : `${t.kernelBase} (${t.kernelBaseFrom})`]);
    const ct = t.crashingThread;
    if (ct) {
      const p = ct.process;
      facts.push(['crashing thread', `${ct.ethread ?? '?'} (TID ${ct.threadId ?? '?'})`]);
      facts.push(['crashing process', `${p.imageFileName ?? '?'} (PID ${p.pid ?? '?'}, EPROCESS ${p.eprocess ?? '?'}, DTB ${p.dtb ?? '?'}; profile ${ct.profile})`]);
    }
    facts.push(['memory held', `${t.memoryPages} pages in ${t.dataBlocks} blocks (${t.dataBytes} bytes) of kernel virtual memory; no physical memory or page tables`]);
    facts.push(['analysis', 'pslist, psscan, psxview, dtb, translate, hexdump and struct need physical memory, which a triage dump does not hold']);
    for (const n of t.notes) facts.push(['note', n]);
    facts.push(['drivers', String(t.drivers.length)]);
  }
  const width = Math.max(...facts.map(([k]) => k.length));
  const head = facts.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n';
  if (!t) return head;
  return head + '\n' + renderTable(['NAME', 'BASE', 'SIZE', 'TIMESTAMP'], t.drivers.map((d) => [d.name, d.base, d.size, d.timeDateStamp]));
}
