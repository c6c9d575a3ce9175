import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  PutCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { EventBridgePublisher } from '../../../functions/lib/event-publisher.ts';
import { readEnv } from '../../../functions/lib/env.ts';
import {
  coalescedMessages,
  coalesceId,
  SqsDeadLetter,
  SqsWorkQueue,
  type WorkMessage,
} from '../../../functions/lib/queues.ts';
import { lambdaDeps } from '../../../functions/lib/runtime.ts';
import { TABLES, tableEnvName, type TableKey } from '../../../functions/lib/table-definitions.ts';
import { RiskRepository, VersionConflict } from '../../../functions/lib/risk-repository.ts';
import { SCHEMA_VERSION, type DomainEvent } from '../../../shared/events/schemas.ts';
import type { StoredRiskState } from '../../../shared/pipeline/stored-state.ts';

const event = (n: number): DomainEvent => ({
  detailType: 'MarginCallResolved',
  detail: {
    schemaVersion: SCHEMA_VERSION,
    eventId: `e${n}`,
    accountId: 'A1',
    occurredAt: '2026-01-01T00:00:00.000Z',
    incidentId: 'i',
    marginRatio: '1.2',
    durationMs: 5,
    worstRatio: '0.9',
  },
});

describe('EventBridgePublisher', () => {
  const eb = mockClient(EventBridgeClient);
  beforeEach(() => eb.reset());

  it('sends in batches of 10 to the bus, as versioned detail', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    await new EventBridgePublisher(new EventBridgeClient({}), 'bus').publish(
      Array.from({ length: 23 }, (_, i) => event(i)),
    );
    const calls = eb.commandCalls(PutEventsCommand);
    expect(calls.map((c) => c.args[0].input.Entries!.length)).toEqual([10, 10, 3]);
    const entry = calls[0]!.args[0].input.Entries![0]!;
    expect(entry).toMatchObject({
      EventBusName: 'bus',
      Source: 'margin-guard',
      DetailType: 'MarginCallResolved',
    });
    expect(JSON.parse(entry.Detail!)).toMatchObject({ schemaVersion: '1', eventId: 'e0' });
  });

  it('retries only the entries that failed (FailedEntryCount), never ignores them', async () => {
    eb.on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ EventId: 'x' }, { ErrorCode: 'ThrottlingException' }, { EventId: 'y' }],
      })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'z' }] });
    await new EventBridgePublisher(new EventBridgeClient({}), 'bus').publish([event(0), event(1), event(2)]);
    const retried = eb.commandCalls(PutEventsCommand)[1]!.args[0].input.Entries!;
    expect(retried.map((e) => JSON.parse(e.Detail!).eventId)).toEqual(['e1']);
  });

  it('throws when entries keep failing, so the caller retries the record', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] });
    await expect(
      new EventBridgePublisher(new EventBridgeClient({}), 'bus', 3).publish([event(0)]),
    ).rejects.toThrow('1 event(s) not accepted by EventBridge after 3 attempts (InternalFailure)');
  });

  it('refuses to send an event that breaks its schema', async () => {
    const bad = { ...event(0), detail: { ...event(0).detail, marginRatio: 'NaN' } } as DomainEvent;
    await expect(new EventBridgePublisher(new EventBridgeClient({}), 'bus').publish([bad])).rejects.toThrow(
      /marginRatio/,
    );
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(0);
  });
});

describe('RiskRepository', () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  beforeEach(() => ddb.reset());
  const repo = () =>
    new RiskRepository(new DynamoDBClient({}), {
      accounts: 'acc',
      positions: 'pos',
      prices: 'px',
      riskState: 'rs',
      riskHistory: 'rh',
      bands: 'bd',
      connections: 'cn',
      actions: 'act',
      settings: 'set',
      idempotency: 'idem',
    });
  const state = {
    accountId: 'A1',
    version: 3,
    level: 'WARNING',
    marginRatio: '1.8',
    inMarginCall: false,
    evaluation: null,
    tracker: { incident: null },
  } as unknown as StoredRiskState;

  it('writes state and history in one transaction conditioned on the version', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    await repo().saveRiskState({ ...state, version: 4 }, 3, { accountId: 'A1', at: 't' } as never);
    const items = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(items[0]!.Put).toMatchObject({
      TableName: 'rs',
      ConditionExpression: 'version = :v',
      ExpressionAttributeValues: { ':v': 3 },
    });
    expect(items[1]!.Put).toMatchObject({ TableName: 'rh' });
    // The overview index's keys travel in the same put: the index never lags the state.
    expect(items[0]!.Put!.Item).toMatchObject({
      overviewPartition: expect.stringMatching(/^WARNING#[0-7]$/),
      ratioKey: { value: '1.8' },
      callDistanceKey: { value: '1e15' },
    });
  });

  it('turns a failed condition into a VersionConflict, and other failures into errors', async () => {
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(
        new TransactionCanceledException({
          message: 'x',
          $metadata: {},
          CancellationReasons: [{ Code: 'ConditionalCheckFailed' }],
        }),
      )
      .rejectsOnce(Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' }));
    await expect(repo().saveRiskState(state, 3, null)).rejects.toBeInstanceOf(VersionConflict);
    await expect(repo().saveRiskState(state, 3, null)).rejects.toThrow('throttled');
  });

  it('retries unprocessed BatchGet keys instead of dropping them', async () => {
    ddb
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { px: [{ instrument: 'A', price: '1', priceTime: 't' }] },
        UnprocessedKeys: { px: { Keys: [{ instrument: 'B' }] } },
      })
      .resolves({ Responses: { px: [{ instrument: 'B', price: '2', priceTime: 't' }] } });
    const prices = await repo().getPrices(['A', 'B', 'A']);
    expect([...prices.keys()]).toEqual(['A', 'B']);
    expect(ddb.commandCalls(BatchGetCommand)[1]!.args[0].input.RequestItems!.px!.Keys).toEqual([
      { instrument: 'B' },
    ]);
  });

  it('stores a price only if newer', async () => {
    ddb
      .on(PutCommand)
      .rejectsOnce(Object.assign(new Error('old'), { name: 'ConditionalCheckFailedException' }))
      .resolves({});
    expect(
      await repo().putPriceIfNewer({ instrument: 'A', price: '1', priceTime: '2026-01-01T00:00:00Z' }),
    ).toBe(false);
    expect(
      await repo().putPriceIfNewer({ instrument: 'A', price: '1', priceTime: '2026-01-01T00:00:01Z' }),
    ).toBe(true);
    expect(ddb.commandCalls(PutCommand)[0]!.args[0].input.ConditionExpression).toBe(
      'attribute_not_exists(instrument) OR priceTime < :t',
    );
  });
});

describe('SQS adapters', () => {
  const sqs = mockClient(SQSClient);
  beforeEach(() => sqs.reset());

  it('dead-letters a record with its reason as an attribute', async () => {
    sqs.on(SendMessageCommand).resolves({});
    await new SqsDeadLetter(new SQSClient({}), 'url').send('invalid-price-record', { x: 1 }, [
      { path: ['price'] },
    ]);
    const input = sqs.commandCalls(SendMessageCommand)[0]!.args[0].input;
    expect(input.MessageAttributes!.reason!.StringValue).toBe('invalid-price-record');
    expect(JSON.parse(input.MessageBody!)).toMatchObject({
      reason: 'invalid-price-record',
      record: { x: 1 },
    });
  });

  it('retries failed batch entries of the work queue', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Failed: [{ Id: '1', SenderFault: false, Code: 'x' }], Successful: [] })
      .resolves({ Failed: [] });
    await new SqsWorkQueue(new SQSClient({}), 'url').enqueue([
      { kind: 'accounts', accountIds: ['A'], reason: 'r' },
      { kind: 'accounts', accountIds: ['B'], reason: 'r' },
    ]);
    expect(sqs.commandCalls(SendMessageBatchCommand)[1]!.args[0].input.Entries!.map((e) => e.Id)).toEqual([
      '1',
    ]);
  });

  const plain: WorkMessage = { kind: 'accounts', accountIds: ['B1', 'B2'], reason: 'prices:SPY' };
  const sent = () =>
    sqs.commandCalls(SendMessageBatchCommand).map((c) => ({
      url: c.args[0].input.QueueUrl,
      entries: c.args[0].input.Entries!.map((e) => ({
        body: JSON.parse(e.MessageBody!),
        group: e.MessageGroupId,
        dedup: e.MessageDeduplicationId,
      })),
    }));

  it('sends coalesced messages to the FIFO queue, grouped by account, one id per account and second', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Failed: [] });
    const at = Date.parse('2026-03-02T15:00:07.999Z');
    const coalesced = coalescedMessages(['U1', 'U2'], 'prices:SPY');
    await new SqsWorkQueue(new SQSClient({}), 'work', 'coalesced.fifo', () => at).enqueue([
      plain,
      ...coalesced,
    ]);
    expect(sent()).toEqual([
      { url: 'work', entries: [{ body: plain, group: undefined, dedup: undefined }] },
      {
        url: 'coalesced.fifo',
        entries: ['U1', 'U2'].map((id, i) => ({
          body: coalesced[i],
          group: id,
          dedup: `${id}#${Math.floor(at / 1000)}`,
        })),
      },
    ]);
  });

  it('without a FIFO queue, coalesced messages go to the work queue with no FIFO ids', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Failed: [] });
    await new SqsWorkQueue(new SQSClient({}), 'work').enqueue(coalescedMessages(['U1'], 'r'));
    expect(sent()).toEqual([
      {
        url: 'work',
        entries: [{ body: coalescedMessages(['U1'], 'r')[0], group: undefined, dedup: undefined }],
      },
    ]);
  });

  it('a de-duplication id fits SQS’s 128 characters for the longest account id', () => {
    const at = Date.parse('2026-03-02T15:00:07.000Z');
    expect(coalesceId('A1', at)).toBe('A1#1772463607');
    const longest = 'a'.repeat(128);
    const id = coalesceId(longest, at);
    expect(id.length).toBeLessThanOrEqual(128);
    expect(id).toMatch(/^[0-9a-f]{64}#1772463607$/);
    expect(coalesceId(longest, at + 999)).toBe(id);
    expect(coalesceId(longest, at + 1000)).not.toBe(id);
    expect(coalesceId('b'.repeat(128), at)).not.toBe(id);
  });
});

describe('the Lambda environment', () => {
  const sqs = mockClient(SQSClient);
  beforeEach(() => sqs.reset());
  const env = {
    ...Object.fromEntries((Object.keys(TABLES) as TableKey[]).map((k) => [tableEnvName(k), `t-${k}`])),
    EVENT_BUS_NAME: 'bus',
    DEAD_LETTER_QUEUE_URL: 'dlq',
    WORK_QUEUE_URL: 'work',
    COALESCED_QUEUE_URL: 'coalesced.fifo',
  };

  it('the coalescing queue’s URL is optional', () => {
    expect(readEnv(env).coalescedQueueUrl).toBe('coalesced.fifo');
    const { COALESCED_QUEUE_URL: _, ...without } = env;
    expect(readEnv(without).coalescedQueueUrl).toBeUndefined();
    expect(() => readEnv({ ...env, COALESCED_QUEUE_URL: '' })).toThrow(/COALESCED_QUEUE_URL/);
  });

  it('the band index’s stripes: BANDS_TABLES in order, else the one bands table; a bad list is named', () => {
    expect(readEnv(env).bandTables).toEqual(['t-bands']);
    expect(readEnv({ ...env, BANDS_TABLES: 'b1,b2,b3' }).bandTables).toEqual(['b1', 'b2', 'b3']);
    expect(() => readEnv({ ...env, BANDS_TABLES: 'b1,,b2' })).toThrow(/BANDS_TABLES/);
  });

  it('lambdaDeps sends coalesced messages to COALESCED_QUEUE_URL, the rest to WORK_QUEUE_URL', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Failed: [] });
    const saved = process.env;
    process.env = { ...saved, ...env };
    try {
      await lambdaDeps().workQueue.enqueue([
        { kind: 'accounts', accountIds: ['B1'], reason: 'r' },
        ...coalescedMessages(['U1'], 'r'),
      ]);
    } finally {
      process.env = saved;
    }
    const calls = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.QueueUrl)).toEqual(['work', 'coalesced.fifo']);
    expect(calls[1]!.Entries![0]).toMatchObject({
      MessageGroupId: 'U1',
      MessageDeduplicationId: expect.stringMatching(/^U1#\d+$/),
    });
  });
});
