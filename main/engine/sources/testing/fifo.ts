/**
 * Test support: a named pipe with a safety valve. After a few seconds a shell opens the pipe for
 * writing, so code that (wrongly) blocks in open(2) on the pipe returns at last and its test fails
 * instead of hanging the runner; fired() says whether the valve had to act (an answer that came
 * after it fired was waiting on the pipe). Call stop() after the test.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

export function fifoWithValve(path: string, afterSeconds = 10): { fired: () => boolean; stop: () => void } {
  execFileSync('mkfifo', [path]);
  const marker = `${path}.valve-fired`;
  const valve = spawn('sh', ['-c', 'sleep "$3"; : > "$2"; : > "$1"', 'valve', path, marker, String(afterSeconds)], { stdio: 'ignore' });
  return {
    fired: () => existsSync(marker),
    stop: () => { if (valve.exitCode === null && valve.signalCode === null) valve.kill('SIGKILL'); },
  };
}
