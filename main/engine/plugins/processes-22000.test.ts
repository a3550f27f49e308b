import { processSuite } from './testing/process-suite.js';

processSuite('22000', 78);
