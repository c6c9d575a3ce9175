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

  private readonly lastRead = new Map<string, string>();

  private async resume(shardId: string, after: string | undefined): Promise<string | null> {
    const it = await this.streams.send(
      new GetShardIteratorCommand({
        StreamArn: this.streamArn,
        ShardId: shardId,
        ...(after
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }
          : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    return it.ShardIterator ?? null;
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
      if (!this.iterators.has(id)) this.iterators.set(id, await this.resume(id, undefined));
      let iterator = this.iterators.get(id) ?? null;
      while (iterator) {
        let out;
        try {
          out = await this.streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
        } catch (e) {
          // DynamoDB Local now and then trims a shard under a held iterator: resume after the last
          // record read (nothing is read twice; nothing unread was before the trim point).
          if ((e as Error).name !== 'TrimmedDataAccessException') throw e;
          iterator = await this.resume(id, this.lastRead.get(id));
          continue;
        }
        const got = (out.Records ?? []) as unknown as DynamoDBRecord[];
        records.push(...got);
        const last = got.at(-1)?.dynamodb?.SequenceNumber;
        if (last) this.lastRead.set(id, last);
        iterator = out.NextShardIterator ?? null;
        if (got.length === 0) break;
      }
      this.iterators.set(id, iterator);
    }
    return records.sort((a, b) =>
      BigInt(a.dynamodb?.SequenceNumber ?? '0') < BigInt(b.dynamodb?.SequenceNumber ?? '0') ? -1 : 1,
    );
  }
}
