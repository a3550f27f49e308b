/**
 * A real `memscope serve` child (bin/memscope.js, so `npm run build` first): resolves with the URL from
 * the one line it prints. Used by the bench's renderer rows and by the e2e suite.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from './paths.js';

export interface ServedBridge {
  readonly url: string;
  readonly child: ChildProcess;
  readonly stderr: () => string;
  close(): Promise<void>;
}

const URL_LINE = /^MemScope: open (http:\/\/127\.0\.0\.1:\d+\/\S*token=\S+)$/;

export async function startServe(image?: string, timeoutMs = 30_000): Promise<ServedBridge> {
  const root = repoRoot();
  const args = [join(root, 'bin', 'memscope.js'), 'serve', ...(image ? [image] : []), '--port', '0'];
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const close = (): Promise<void> => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) { resolve(); return; }
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`memscope serve printed no URL within ${timeoutMs} ms; stderr: ${err}`)), timeoutMs);
      createInterface({ input: child.stdout! }).once('line', (line) => {
        clearTimeout(timer);
        const m = URL_LINE.exec(line);
        if (m) resolve(m[1]!); else reject(new Error(`unexpected first line from memscope serve: ${JSON.stringify(line)}`));
      });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`memscope serve exited ${code}: ${err}`)); });
    });
    return { url, child, stderr: () => err, close };
  } catch (e) {
    await close();
    throw e;
  }
}
