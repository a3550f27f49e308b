/** Moved to main/engine/acquire/writers/testing.ts; kept so imports in flight keep working. */
export * from '../../acquire/writers/testing.js';
