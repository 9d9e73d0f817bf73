import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root (tests run from dist/test/...). */
export const repoRoot = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
/** The `mdfan` command (the package's bin). */
export const binPath = join(repoRoot, 'bin', 'mdfan.js');
/** The shared recorded data beside the repository (../shared/data). */
export const sharedData = join(repoRoot, '..', 'shared', 'data');
/** The shared DBN data (its README): the GOOG day as MBO records, and Databento's conformance samples. */
export const DBN_DATA = process.env.MDFAN_DBN_DATA ?? join(sharedData, 'dbn');
export const DBN_SAMPLES = join(DBN_DATA, 'samples');
