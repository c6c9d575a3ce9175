import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';

/**
 * Reads a table's DynamoDB stream like the Lambda event source does: every shard from the start, in
 * order, handing over records exactly as they were written.
 */
export class StreamTail {
  private readonly iterators = new Map<string, string | null>();
  private streamArn?: string;

  constructor(
    private readonly dynamo: DynamoDBClient,
    private readonly streams: DynamoDBStreamsClient,
    private readonly tableName: string,
  ) {}

  static forEndpoint(dynamo: DynamoDBClient, endpoint: string, tableName: string): StreamTail {
    const streams = new DynamoDBStreamsClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    return new StreamTail(dynamo, streams, tableName);
  }

  /** Everything written since the last poll. */
  async poll(): Promise<DynamoDBRecord[]> {
    if (!this.streamArn) {
      const table = await this.dynamo.send(new DescribeTableCommand({ TableName: this.tableName }));
      this.streamArn = table.Table?.LatestStreamArn;
      if (!this.streamArn) throw new Error(`${this.tableName} has no stream`);
    }
    const description = await this.streams.send(new DescribeStreamCommand({ StreamArn: this.streamArn }));
    const records: DynamoDBRecord[] = [];
    for (const shard of description.StreamDescription?.Shards ?? []) {
      const id = shard.ShardId!;
      if (!this.iterators.has(id)) {
        const it = await this.streams.send(
          new GetShardIteratorCommand({
            StreamArn: this.streamArn,
            ShardId: id,
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        );
        this.iterators.set(id, it.ShardIterator ?? null);
      }
      let iterator = this.iterators.get(id) ?? null;
      while (iterator) {
        const out = await this.streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
        records.push(...((out.Records ?? []) as unknown as DynamoDBRecord[]));
        iterator = out.NextShardIterator ?? null;
        if (!out.Records || out.Records.length === 0) break;
      }
      this.iterators.set(id, iterator);
    }
    return records.sort((a, b) =>
      BigInt(a.dynamodb?.SequenceNumber ?? '0') < BigInt(b.dynamodb?.SequenceNumber ?? '0') ? -1 : 1,
    );
  }
}
