/**
 * The contract's memory-view methods (readMemory, cancelRequest, layStruct, resolveSymbol, listTypes,
 * mappedRanges, discoveryReport, translateAddress) over a session: contract values in, engine values out, once for
 * both transports. A read with a requestId can be cancelled until it answers.
 */
import { ContractError, type DiscoveryCandidates, type Method, type ResultOf, type SpaceRef as WireSpaceRef, type requests } from '../../common/contract.js';
import type { z } from 'zod';
import type { AnalysisSession } from '../engine/session/session.js';
import type { SpaceRef } from '../engine/session/spaces.js';
import { structDumpWire } from '../engine/session/wire.js';
import { pml4FromDtb } from '../engine/translate/x64/mmu.js';
import { readTable } from '../engine/windows/discovery/page-walk.js';
import { hex } from '../engine/util/hex.js';

type ViewMethod = 'readMemory' | 'cancelRequest' | 'layStruct' | 'resolveSymbol' | 'listTypes' | 'mappedRanges' | 'discoveryReport' | 'translateAddress';
type Args<M extends Method> = z.infer<(typeof requests)[M]['args']>;
export type ViewHandlers = { [M in ViewMethod]: (args: Args<M>) => Promise<ResultOf<M>> };

const spaceOf = (w: WireSpaceRef): SpaceRef => (w.kind === 'process' ? { kind: 'process', dtb: BigInt(w.dtb) } : w);

/** Self-reference index of a PML4 (Windows' self-map entry in the kernel half), null when none. */
function selfRefIndex(s: AnalysisSession, pml4: number): number | null {
  const t = readTable(s.kernel.source, pml4);
  if (!t) return null;
  for (let i = 256; i < 512; i++) if ((t[i]! & 1n) && pml4FromDtb(t[i]!) === pml4) return i;
  return null;
}

function discoveryCandidates(s: AnalysisSession): DiscoveryCandidates {
  const r = s.report;
  return {
    candidates: r.candidates.map((c) => ({
      dtbRaw: hex(c.dtbRaw), pml4: hex(c.pml4), method: c.method, evidence: [...c.evidence], score: c.score,
      status: c.status, validation: [...c.validation], kernelBase: c.kernelBase === undefined ? null : hex(c.kernelBase),
      selfRefIndex: selfRefIndex(s, c.pml4),
    })),
    methods: r.methods.map((m) => ({ ...m })),
    accepted: r.accepted ? { dtbRaw: hex(r.accepted.dtbRaw), dtbMethod: r.accepted.dtbMethod, kernelBase: hex(r.accepted.kernelBase) } : null,
  };
}

export function memoryViewHandlers(sessionOf: (id: string) => AnalysisSession): ViewHandlers {
  const reads = new Map<string, AbortController>();
  return {
    readMemory: async ({ sessionId, space, address, length, requestId }) => {
      const s = sessionOf(sessionId);
      const controller = new AbortController();
      if (requestId !== undefined) {
        if (reads.has(requestId)) throw new ContractError('invalid-request', `readMemory: request ${requestId} is already in flight`);
        reads.set(requestId, controller);
      }
      try {
        const sp = s.space(spaceOf(space));
        const r = await sp.read(BigInt(address), length, controller.signal);
        return { space, dtb: sp.dtbRaw === null ? null : hex(sp.dtbRaw), address: hex(r.address), bytes: r.data, spans: r.spans.map((x) => ({ ...x })) };
      } finally {
        if (requestId !== undefined) reads.delete(requestId);
      }
    },
    cancelRequest: async ({ requestId }) => {
      const c = reads.get(requestId);
      if (!c) throw new ContractError('not-found', `no request ${requestId} in flight (it answered already or never started)`);
      c.abort();
      return {};
    },
    layStruct: async ({ sessionId, space, type, address }) => {
      const { dump, bytes } = sessionOf(sessionId).structIn(spaceOf(space), type, BigInt(address));
      return structDumpWire(dump, bytes);
    },
    resolveSymbol: async ({ sessionId, name }) => {
      const r = sessionOf(sessionId).symbol(name);
      return { name: r.name, module: r.module, address: hex(r.address) };
    },
    listTypes: async ({ sessionId }) => ({ types: sessionOf(sessionId).typeNames() }),
    mappedRanges: async ({ sessionId, space, from, to, max }) => {
      const r = sessionOf(sessionId).space(spaceOf(space)).mappedRanges(BigInt(from), BigInt(to), max);
      return { ranges: r.ranges.map((x) => ({ start: hex(x.start), end: hex(x.end) })), truncated: r.truncated, problems: [...r.problems] };
    },
    discoveryReport: async ({ sessionId }) => discoveryCandidates(sessionOf(sessionId)),
    translateAddress: async ({ sessionId, space, address }) => {
      const sp = sessionOf(sessionId).space(spaceOf(space));
      const t = sp.translate(BigInt(address));
      return { dtb: sp.dtbRaw === null ? null : hex(sp.dtbRaw), address, pa: t.pa === null ? null : hex(t.pa), status: t.status, reason: t.reason };
    },
  };
}
