import { processSuite } from './testing/process-suite.js';

processSuite('18362', 29);
