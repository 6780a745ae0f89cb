/** Moved to ./generate/ (one file per job); kept so imports of dev/generate.js keep working. */
export * from './generate/index.js';
