/**
 * The contract's exportEvidence over a session: the engine's evidence bundle (engine/evidence/) written
 * by the host into the folder the user chose (Electron's folder dialog, or typed over the bridge) or,
 * when none is named, a new folder under `$MEMSCOPE_HOME/evidence/`. The open session is reused (its
 * kept psxview rows: no rescan) — for live memory it must be: the driver serves one open, so the bundle
 * reads the device through the session that already holds it.
 */
import { readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { ContractError, type ArgsOf, type ResultOf } from '../../common/contract.js';
import { writeEvidenceBundle } from '../engine/evidence/bundle.js';
import { memscopeHome } from '../engine/profile/symbol-server/index.js';
import type { AnalysisSession } from '../engine/session/session.js';
import type { SourceRef } from '../engine/sources/source-ref.js';
import type { ServiceHost } from './types.js';

/** `<home>/evidence/<stem>-<UTC time>`: a new folder per export (stem: the image's name, or `live-<host>`). */
export function evidenceDir(stemOf: string, now: Date = new Date(), home: string = memscopeHome()): string {
  const stem = basename(stemOf).replace(/[^A-Za-z0-9._-]+/g, '_') || 'memory';
  return join(home, 'evidence', `${stem}-${now.toISOString().replace(/[:.]/g, '-')}`);
}

/** What a session's bundle is of: its image path, or the live reference its scan workers open. */
function bundleSource(s: AnalysisSession): { source: string | SourceRef; stem: string } {
  if (!s.info.source.live) return { source: s.info.source.path, stem: s.info.source.path };
  const ref = s.scanPool?.ref;
  if (!ref || ref.kind === 'file') throw new ContractError('unsupported', 'this live session was opened without a source reference; reopen Live memory to export its evidence');
  return { source: ref, stem: ref.kind === 'simulated' ? `simulated-live-${basename(ref.image)}` : `live-${hostname()}` };
}

export function evidenceHandlers(sessionOf: (id: string) => AnalysisSession, host: Pick<ServiceHost, 'acquire' | 'namedEvidenceFolder'> = {}): {
  exportEvidence: (a: ArgsOf<'exportEvidence'>) => Promise<ResultOf<'exportEvidence'>>;
} {
  return {
    exportEvidence: async ({ sessionId, out }) => {
      if (out !== undefined && !host.namedEvidenceFolder) throw new ContractError('unsupported', 'this host chooses the evidence folder itself: export without naming one');
      const s = sessionOf(sessionId);
      const { source, stem } = bundleSource(s);
      const driverSha256 = s.info.source.live ? (host.acquire?.driverSha256() ?? null) : null;
      const { dir, manifest } = await writeEvidenceBundle({
        source, out: out ?? evidenceDir(stem), session: s, ...(driverSha256 ? { driver: { path: null, sha256: driverSha256 } } : {}),
      });
      return {
        dir, files: readdirSync(dir).length, complete: manifest.complete,
        imageSha256: manifest.source.sha256, sha256From: manifest.source.sha256From, warnings: [...manifest.warnings],
      };
    },
  };
}
