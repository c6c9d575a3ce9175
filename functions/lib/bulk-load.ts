import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { forEachLimit } from './concurrency.ts';
import { BATCH_WRITE_ITEMS, batchPut, type RetryTools } from './transactions.ts';

export interface BulkLoadOptions {
  /** BatchWriteItem calls in flight at once. @default 16 */
  readonly concurrency?: number;
  readonly tools?: RetryTools;
}

/**
 * Loads validated items (shared/ingest/import-files.ts) into an existing table: BatchWriteItem, 25 items a
 * call, `concurrency` calls in flight, unprocessed items retried with backoff (batchPut). A chunk that still
 * fails is reported, never skipped: the error names how many items did not load, and loading again is
 * safe (a put of the same item is idempotent). For a new deployment, DynamoDB's import from S3 loads the
 * same items without spending write capacity (docs/ingestion.md).
 */
export async function bulkPut(
  doc: Pick<DynamoDBDocumentClient, 'send'>,
  table: string,
  items: readonly Record<string, unknown>[],
  options: BulkLoadOptions = {},
): Promise<{ items: number; calls: number }> {
  const chunks: (readonly Record<string, unknown>[])[] = [];
  for (let i = 0; i < items.length; i += BATCH_WRITE_ITEMS)
    chunks.push(items.slice(i, i + BATCH_WRITE_ITEMS));
  const failures = await forEachLimit(chunks, options.concurrency ?? 16, (chunk) =>
    batchPut(doc, table, chunk, options.tools),
  );
  if (failures.length > 0) {
    const lost = failures.reduce((n, f) => n + f.item.length, 0);
    throw new Error(
      `${lost} of ${items.length} items did not load into ${table} (${failures.length} failed BatchWriteItem chunks; ` +
        `first: ${(failures[0]!.error as Error).message}); loading again is safe`,
      { cause: failures[0]!.error },
    );
  }
  return { items: items.length, calls: chunks.length };
}
