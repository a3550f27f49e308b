/**
 * A stand-in for Electron's `utilityProcess.fork` where no Electron binary exists (tests, the bench):
 * `child_process.fork` with structured-clone messages, and in the child a `process.parentPort` shaped
 * like Electron's (node-parent-port.ts), so the real engine host module runs unchanged in a real child
 * process. Running from the TypeScript sources, the child loads tsx first.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';

const here = import.meta.url;
const runningFromTs = /\.ts$/.test(new URL(here).pathname);
const SHIM = fileURLToPath(new URL(runningFromTs ? './node-parent-port.ts' : './node-parent-port.js', here));

/** Electron's `ForkOptions` this stand-in honours. */
export interface NodeUtilityProcessOptions {
  readonly env?: NodeJS.ProcessEnv;
}

/** The slice of Electron's `UtilityProcess` the shell uses, backed by a Node child process. */
export class NodeUtilityProcess extends EventEmitter {
  private readonly child: ChildProcess;

  constructor(modulePath: string, args: readonly string[] = [], options: NodeUtilityProcessOptions = {}) {
    super();
    this.child = fork(SHIM, [modulePath, ...args], {
      env: options.env ?? process.env,
      serialization: 'advanced', // structured clone, as Electron's MessagePort
      execArgv: runningFromTs ? ['--import', 'tsx'] : [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('spawn', () => this.emit('spawn'));
    this.child.on('message', (m) => this.emit('message', m));
    this.child.on('exit', (code, signal) => this.emit('exit', code ?? (signal ? 1 : 0)));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  postMessage(message: unknown): void {
    if (this.child.connected) this.child.send(message as object);
  }

  kill(): boolean {
    return this.child.kill();
  }
}

export function forkNodeUtilityProcess(modulePath: string, args: readonly string[] = [], options: NodeUtilityProcessOptions = {}): NodeUtilityProcess {
  return new NodeUtilityProcess(modulePath, args, options);
}
