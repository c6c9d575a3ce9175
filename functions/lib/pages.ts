import {
  BatchGetCommand,
  QueryCommand,
  ScanCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
  type ScanCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { RetryLaterError } from '../../shared/errors.ts';

/** Every page of a Query or Scan, following LastEvaluatedKey until there is none. */
export async function* pagesOf(
  doc: DynamoDBDocumentClient,
  input: ({ kind: 'query' } & QueryCommandInput) | ({ kind: 'scan' } & ScanCommandInput),
): AsyncGenerator<Record<string, unknown>[]> {
  const { kind, ...rest } = input;
  let start: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(
      kind === 'query'
        ? new QueryCommand({ ...(rest as QueryCommandInput), ExclusiveStartKey: start })
        : new ScanCommand({ ...(rest as ScanCommandInput), ExclusiveStartKey: start }),
    );
    yield out.Items ?? [];
    start = out.LastEvaluatedKey;
  } while (start);
}

/**
 * Every item of the given keys, 100 per BatchGet; unprocessed keys are retried with backoff, never dropped
 * (an error after the last attempt).
 */
export async function batchGetAll(
  doc: DynamoDBDocumentClient,
  table: string,
  allKeys: readonly Record<string, unknown>[],
  consistentRead = false,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < allKeys.length; i += 100) {
    let keys = allKeys.slice(i, i + 100);
    for (let attempt = 0; keys.length > 0; attempt++) {
      if (attempt > 8)
        throw new RetryLaterError(
          'keys-unprocessed',
          `${table}: keys still unprocessed after ${attempt} attempts`,
        );
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));
      const out = await doc.send(
        new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: consistentRead } } }),
      );
      items.push(...(out.Responses?.[table] ?? []));
      keys = out.UnprocessedKeys?.[table]?.Keys ?? [];
    }
  }
  return items;
}
