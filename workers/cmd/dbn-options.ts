/**
 * `mdfan read --record-dbn FILE [--schema mbp-10|mbp-1] [--dataset NAME]`: the flags, checked.
 * --top reads one level, so it records MBP-1: --schema mbp-10 with --top is refused rather than
 * written as ten levels of which nine are always empty.
 */
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import { METADATA } from '../../lib/dbn/metadata.js';

export type DbnSchemaName = 'mbp-10' | 'mbp-1';

export interface DbnOptions {
  file: string;
  schema: DbnSchemaName;
  /** The record's depth: 10 or 1. */
  depth: 10 | 1;
  dataset: string;
}

export const DBN_DEFAULT_DATASET = 'MDFAN';
const SCHEMAS: readonly DbnSchemaName[] = ['mbp-10', 'mbp-1'];
/** A dataset name: printable ASCII that fits the metadata's 16-byte field with its NUL. */
const DATASET_RE = new RegExp(`^[\\x21-\\x7e]{1,${METADATA.datasetBytes - 1}}$`);

export function parseDbnOptions(file: string | undefined, schema: string | undefined, dataset: string | undefined, top: boolean): DbnOptions | null {
  if (file === undefined) {
    if (schema !== undefined || dataset !== undefined)
      throw new MdfanError(ErrorCode.OPTIONS, '--schema and --dataset go with --record-dbn', { flag: schema !== undefined ? '--schema' : '--dataset' });
    return null;
  }
  if (schema !== undefined && !SCHEMAS.includes(schema as DbnSchemaName))
    throw new MdfanError(ErrorCode.OPTIONS, `--schema must be ${SCHEMAS.join(' or ')} (got ${JSON.stringify(schema)})`, { flag: '--schema', found: schema });
  if (top && schema === 'mbp-10')
    throw new MdfanError(ErrorCode.OPTIONS, '--top reads one level: it records --schema mbp-1 (mbp-10 needs whole books: leave out --top)', { flag: '--schema', found: schema });
  const name = (schema as DbnSchemaName | undefined) ?? (top ? 'mbp-1' : 'mbp-10');
  const ds = dataset ?? DBN_DEFAULT_DATASET;
  if (!DATASET_RE.test(ds))
    throw new MdfanError(ErrorCode.OPTIONS, `--dataset must be 1..${METADATA.datasetBytes - 1} printable ASCII characters (got ${JSON.stringify(ds)})`, { flag: '--dataset', found: ds });
  return { file, schema: name, depth: name === 'mbp-1' ? 1 : 10, dataset: ds };
}
