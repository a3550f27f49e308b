/** `memscope psscan <image> [--format table|csv|json] [--out FILE]` (implementation shared with pslist.ts). */
export { registerPsscan as register } from './pslist.js';
