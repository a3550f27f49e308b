/**
 * JSON shapes of discovery results for the CLI and the UI: hex values as lower-case "0x…" strings,
 * times in ms. `kernelInfoJson` is what `memscope info` adds; `dtbReportJson` is `memscope dtb`'s
 * document (a `candidates` list and a `methods` list today; issue 6 adds `processes` beside them).
 */
import { hex } from '../../util/hex.js';
import type { DiscoveryReport } from './types.js';

export interface KernelInfoJson {
  kernelBase: string;
  dtb: string;
  dtbRaw: string;
  dtbMethod: string;
  build: number | null;
  pdb: { name: string; guid: string; age: number } | null;
  profileSource: string | null;
  timings: Record<string, number>;
}

export function kernelInfoJson(r: DiscoveryReport): KernelInfoJson | null {
  const a = r.accepted;
  if (!a) return null;
  return {
    kernelBase: hex(a.kernelBase),
    dtb: hex(a.dtb),
    dtbRaw: hex(a.dtbRaw),
    dtbMethod: a.dtbMethod,
    build: a.buildNumber,
    pdb: a.pdb ? { name: a.pdb.name, guid: a.pdb.guid, age: a.pdb.age } : null,
    profileSource: a.profileSource,
    timings: r.timings,
  };
}

export interface DtbCandidateJson {
  method: string;
  dtbRaw: string;
  dtb: string;
  lowBits: string;
  status: string;
  score: number;
  evidence: string[];
  validation: string[];
  kernelBase: string | null;
}

export interface DtbReportJson {
  source: string;
  accepted: { dtbRaw: string; dtb: string; dtbMethod: string; kernelBase: string } | null;
  candidates: DtbCandidateJson[];
  methods: { method: string; ok: boolean; detail: string; ms: number }[];
  timings: Record<string, number>;
  warnings: string[];
  error?: string;
}

export function dtbReportJson(r: DiscoveryReport, error?: string): DtbReportJson {
  const a = r.accepted;
  return {
    source: r.source,
    accepted: a ? { dtbRaw: hex(a.dtbRaw), dtb: hex(a.dtb), dtbMethod: a.dtbMethod, kernelBase: hex(a.kernelBase) } : null,
    candidates: r.candidates.map((c) => ({
      method: c.method,
      dtbRaw: hex(c.dtbRaw),
      dtb: hex(c.pml4),
      lowBits: hex(c.dtbRaw & 0xfffn),
      status: c.status,
      score: c.score,
      evidence: c.evidence,
      validation: c.validation,
      kernelBase: c.kernelBase !== undefined ? hex(c.kernelBase) : null,
    })),
    methods: r.methods.map((m) => ({ method: m.method, ok: m.ok, detail: m.detail, ms: Math.round(m.ms * 10) / 10 })),
    timings: r.timings,
    warnings: r.warnings,
    ...(error ? { error } : {}),
  };
}
