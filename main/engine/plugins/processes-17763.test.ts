import { processSuite } from './testing/process-suite.js';

processSuite('17763', 12);
