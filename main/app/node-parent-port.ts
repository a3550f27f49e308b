/**
 * Child side of node-utility-process.ts: gives a `child_process.fork` child the `process.parentPort`
 * an Electron utility process has (`on('message', ({ data }) => …)`, `postMessage`), then runs the
 * module named on the command line.
 */
import { pathToFileURL } from 'node:url';

const modulePath = process.argv[2];
if (!modulePath || !process.send) {
  process.stderr.write('node-parent-port: run through forkNodeUtilityProcess (needs an IPC channel and a module path)\n');
  process.exit(2);
}
const send = process.send.bind(process);
const port = {
  on(event: string, listener: (message: { data: unknown; ports: [] }) => void) {
    if (event === 'message') process.on('message', (data) => listener({ data, ports: [] }));
    return port;
  },
  postMessage(message: unknown) {
    send(message as object);
  },
};
Object.defineProperty(process, 'parentPort', { value: port, configurable: true });
// Electron's utility process ends when its parent does; a fork child must not outlive its parent either.
process.on('disconnect', () => process.exit(0));
process.argv.splice(2, 1);
await import(pathToFileURL(modulePath).href);
