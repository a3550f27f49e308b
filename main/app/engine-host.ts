/**
 * Entry of the engine host: the utility process (Electron's `utilityProcess.fork`) where the contract
 * service and its analysis sessions run, off the main process's event loop. Main talks to it only
 * through `process.parentPort` messages (engine-protocol.ts).
 */
import { constants, setPriority } from 'node:os';
import { parseArgs } from 'node:util';
import { createContractService } from '../service/service.js';
import { electronServiceHost, INITIAL_IMAGE_FLAG, SIMULATED_PMEM_FLAG } from './electron-service-host.js';
import { runEngineHost } from './engine-host-loop.js';

const port = process.parentPort;
if (!port) {
  process.stderr.write('engine-host: not running in a utility process (no process.parentPort)\n');
  process.exit(2);
}
// A scan keeps every core busy (scan workers); below-normal priority, set before any worker starts
// (Linux threads inherit it), lets the window's process win the CPU whenever it has work, so the UI
// stays responsive while the scan uses what is left. Measured by the bench's main-event-loop row.
try {
  setPriority(constants.priority.PRIORITY_BELOW_NORMAL);
} catch {
  // not permitted here: run at normal priority
}
const { values } = parseArgs({ args: process.argv.slice(2), options: { [INITIAL_IMAGE_FLAG.slice(2)]: { type: 'string' }, [SIMULATED_PMEM_FLAG.slice(2)]: { type: 'string' } }, strict: false });
const initial = values[INITIAL_IMAGE_FLAG.slice(2)];
const simulated = values[SIMULATED_PMEM_FLAG.slice(2)];
const host = electronServiceHost({ initialImage: typeof initial === 'string' ? initial : null, simulatedPmem: typeof simulated === 'string' ? simulated : null });
// exit on the next turn so the `disposed` message is flushed first
runEngineHost(port, createContractService(host), () => setImmediate(() => process.exit(0)));
