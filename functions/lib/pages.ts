import {
  QueryCommand,
  ScanCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
  type ScanCommandInput,
} from '@aws-sdk/lib-dynamodb';

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
