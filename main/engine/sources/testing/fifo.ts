/**
 * Test support: a named pipe with a safety valve. A shell opens the pipe for writing after a few
 * seconds, so code that (wrongly) blocks in open(2) on the pipe returns at last and its test fails
 * on what it answered instead of hanging the test runner. Call the returned stop() after the test.
 */
import { execFileSync, spawn } from 'node:child_process';

export function fifoWithValve(path: string, afterSeconds = 4): { stop: () => void } {
  execFileSync('mkfifo', [path]);
  const valve = spawn('sh', ['-c', 'sleep "$2"; : > "$1"', 'valve', path, String(afterSeconds)], { stdio: 'ignore' });
  return { stop: () => { if (valve.exitCode === null && valve.signalCode === null) valve.kill('SIGKILL'); } };
}
