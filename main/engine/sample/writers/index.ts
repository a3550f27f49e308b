/** Moved to main/engine/acquire/writers/ (shared with acquisition); kept so imports in flight keep working. */
export * from '../../acquire/writers/index.js';
