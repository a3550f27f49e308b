import { processSuite } from './testing/process-suite.js';

processSuite('19041', 29);
