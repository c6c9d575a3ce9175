import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { marshall } from '@aws-sdk/util-dynamodb';
import { InputError, type FieldIssue } from '../shared/errors.ts';
import {
  readCsv,
  readJsonLines,
  validateImport,
  type ImportItems,
  type SourceRow,
} from '../shared/ingest/import-files.ts';
import { TABLES } from '../functions/lib/table-definitions.ts';

export interface ImportArgs {
  accounts: string;
  positions: string;
  prices?: string;
  /** Where to write the DynamoDB import files; without it, only validate. */
  out?: string;
}

/** A file's rows by its extension: `.jsonl`/`.ndjson` (one object per line) or `.csv` (a header row). */
export function readRows(path: string, issues: FieldIssue[]): SourceRow[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw InputError.single(path, `cannot read file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const source = basename(path);
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return readJsonLines(text, source, issues);
  if (ext === '.csv') return readCsv(text, source, issues);
  throw InputError.single(path, `expected a .jsonl, .ndjson or .csv file, got ${JSON.stringify(ext)}`);
}

/**
 * DynamoDB's import-from-S3 format (DYNAMODB_JSON, GZIP): one `{"Item": …}` per line, in the attribute-value
 * encoding. Source: Amazon DynamoDB Developer Guide, "DynamoDB data import from Amazon S3: format".
 */
export function dynamoDbJsonLines(items: readonly Record<string, unknown>[]): Buffer {
  const text = items.map((item) => JSON.stringify({ Item: marshall(item) })).join('\n');
  return gzipSync(Buffer.from(items.length > 0 ? `${text}\n` : ''));
}

/**
 * Reads and validates every row of the files (each bad row named by file, line and field; an InputError
 * with all of them, and nothing written, if any is bad), then, with `out`, writes one import file per
 * table (`<Table>.json.gz`) ready for `aws s3 cp` and DynamoDB import (docs/ingestion.md).
 */
export function importFiles(args: ImportArgs): { items: ImportItems; files: string[] } {
  const issues: FieldIssue[] = [];
  const rows = {
    accounts: readRows(args.accounts, issues),
    positions: readRows(args.positions, issues),
    prices: args.prices === undefined ? undefined : readRows(args.prices, issues),
  };
  const items = validateImport(rows, issues);
  const files: string[] = [];
  if (args.out !== undefined) {
    mkdirSync(args.out, { recursive: true });
    for (const key of ['accounts', 'positions', 'prices'] as const) {
      const file = join(args.out, `${TABLES[key].logicalName}.json.gz`);
      writeFileSync(file, dynamoDbJsonLines(items[key]));
      files.push(file);
    }
  }
  return { items, files };
}

/** `margin-guard import`: importFiles, and a summary of what it read and wrote. */
export function runImport(args: ImportArgs): string {
  const { items, files } = importFiles(args);
  return JSON.stringify(
    {
      valid: true,
      accounts: items.accounts.length,
      positions: items.positions.length,
      prices: items.prices.length,
      ...(args.out === undefined ? {} : { files }),
    },
    null,
    2,
  );
}
