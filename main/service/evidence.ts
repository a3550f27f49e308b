/**
 * The contract's exportEvidence over a session: the engine's evidence bundle (engine/evidence/) written
 * by the host into a new folder it chooses under `$MEMSCOPE_HOME/evidence/` — the renderer never names
 * a path to write to. The open session is reused (its kept psxview rows: no rescan).
 */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ContractError, type ResultOf } from '../../common/contract.js';
import { writeEvidenceBundle } from '../engine/evidence/bundle.js';
import { memscopeHome } from '../engine/profile/symbol-server/index.js';
import type { AnalysisSession } from '../engine/session/session.js';

/** `<home>/evidence/<image stem>-<UTC time>`: a new folder per export. */
export function evidenceDir(imagePath: string, now: Date = new Date(), home: string = memscopeHome()): string {
  const stem = basename(imagePath).replace(/[^A-Za-z0-9._-]+/g, '_') || 'memory';
  return join(home, 'evidence', `${stem}-${now.toISOString().replace(/[:.]/g, '-')}`);
}

export function evidenceHandlers(sessionOf: (id: string) => AnalysisSession): { exportEvidence: (a: { sessionId: string }) => Promise<ResultOf<'exportEvidence'>> } {
  return {
    exportEvidence: async ({ sessionId }) => {
      const s = sessionOf(sessionId);
      if (s.info.source.live) throw new ContractError('unsupported', 'an evidence bundle of live memory is not in this build: acquire an image and bundle that');
      const { dir, manifest } = await writeEvidenceBundle({ image: s.info.source.path, out: evidenceDir(s.info.source.path), session: s });
      return {
        dir, files: readdirSync(dir).length, complete: manifest.complete,
        imageSha256: manifest.source.sha256, sha256From: manifest.source.sha256From, warnings: [...manifest.warnings],
      };
    },
  };
}
