import { BandRepository } from '../../functions/lib/bands-repository.ts';
import { PutCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePositionStreamHandler } from '../../functions/position-stream/handler.ts';
import { makePriceStreamHandler } from '../../functions/price-stream/handler.ts';
import { makeSweepHandler } from '../../functions/sweep/handler.ts';
import { makeWorkQueueHandler } from '../../functions/work-queue/handler.ts';
import { RiskRepository } from '../../functions/lib/risk-repository.ts';
import type { HandlerDeps } from '../../functions/lib/runtime.ts';
import { Tally } from '../../functions/lib/telemetry.ts';
import { StreamTail } from '../../local/stream-tail.ts';
import { createTables, localClient } from '../../local/tables.ts';
import { testDynamoDb, type TestDynamoDb } from '../helpers/dynamodb.ts';
import { DEFAULT_PIPELINE_CONFIG } from '../../shared/pipeline/config.ts';
import { CapturedDeadLetter, CapturedPublisher, CapturedWorkQueue } from '../helpers/capture.ts';

let db: TestDynamoDb;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let deps: HandlerDeps;
let tables: Awaited<ReturnType<typeof createTables>>;
let positionsTail: StreamTail;
let accountsTail: StreamTail;
let pricesTail: StreamTail;
const publisher = new CapturedPublisher();
const deadLetter = new CapturedDeadLetter();
const workQueue = new CapturedWorkQueue();
let clock = new Date('2026-03-02T15:00:00.000Z');
const at = (minutes: number) => new Date(clock.getTime() + minutes * 60_000).toISOString();

beforeAll(async () => {
  db = await testDynamoDb();
  client = localClient(db.endpoint);
  doc = DynamoDBDocumentClient.from(client);
  tables = await createTables(client, db.prefix('it'));
  const repo = new RiskRepository(client, tables);
  deps = {
    store: repo,
    repo,
    bands: new BandRepository(client, tables.bands, 2),
    publisher,
    deadLetter,
    workQueue,
    // History expires 90 days after the (fixed, past) test clock, and DynamoDB Local really deletes expired
    // items in the background: keep them alive for the test.
    config: { ...DEFAULT_PIPELINE_CONFIG, historyTtlDays: 36_500 },
    telemetry: new Tally(),
    env: { sweepSegments: 3, inlineFanoutLimit: 1 },
    log: { info: () => {}, warn: () => {}, error: () => {} },
    concurrency: 4,
    now: () => clock,
  };
  positionsTail = StreamTail.forEndpoint(client, db.endpoint, tables.positions);
  pricesTail = StreamTail.forEndpoint(client, db.endpoint, tables.prices);
  accountsTail = StreamTail.forEndpoint(client, db.endpoint, tables.accounts);
}, 120_000);

afterAll(async () => {
  await db?.stop();
});

const put = (table: keyof typeof tables, item: Record<string, unknown>) =>
  doc.send(new PutCommand({ TableName: tables[table], Item: item }));
const positionHandler = () => makePositionStreamHandler(() => deps);
const priceHandler = () => makePriceStreamHandler(() => deps);

async function sqsEvent(): Promise<SQSEvent> {
  return {
    Records: workQueue.drain().map((m, i) => ({ messageId: `m${i}`, body: JSON.stringify(m) })),
  } as unknown as SQSEvent;
}

describe('evaluation pipeline on DynamoDB Local, driven by real stream records', () => {
  it('a position change evaluates the account, stores state and history, publishes the level', async () => {
    await put('accounts', { accountId: 'A1', model: 'reg-t', cash: '-21000' });
    await put('prices', { instrument: 'SPY', price: '410', priceTime: at(0) });
    await put('positions', { accountId: 'A1', instrument: 'SPY', quantity: '100', avgCost: '400' });
    await put('positions', { accountId: 'A1', instrument: 'SPY', quantity: '100', avgCost: '400.00' }); // second record, same account
    const records = await positionsTail.poll();
    expect(records).toHaveLength(2);
    const out = await positionHandler()({ Records: records });
    expect(out.batchItemFailures).toEqual([]);
    const state = await deps.repo.getRiskState('A1');
    expect(state).toMatchObject({
      level: 'WARNING',
      equity: '20000',
      maintenanceRequirement: '10250',
      version: 1,
      outbox: [],
    });
    expect(publisher.types()).toEqual(['RiskLevelChanged', 'TradingRestrictionChanged']);
    expect((deps.telemetry as Tally).counts.get('Evaluations')).toBe(1); // two records, one evaluation
    const history = await doc.send(
      new QueryCommand({
        TableName: tables.riskHistory,
        KeyConditionExpression: 'accountId = :a',
        ExpressionAttributeValues: { ':a': 'A1' },
        ConsistentRead: true,
      }),
    );
    expect(history.Items).toHaveLength(1);
    expect(history.Items![0]!.expiresAt).toBeGreaterThan(clock.getTime() / 1000);
  });

  it('a price change that crosses the guard band evaluates the account and triggers the margin call', async () => {
    clock = new Date(clock.getTime() + 60_000);
    expect(await deps.repo.putPriceIfNewer({ instrument: 'SPY', price: '260', priceTime: at(0) })).toBe(true);
    // A late tick with an older timestamp is refused by the conditional write.
    expect(await deps.repo.putPriceIfNewer({ instrument: 'SPY', price: '999', priceTime: at(-5) })).toBe(
      false,
    );
    const records = await pricesTail.poll();
    const out = await priceHandler()({ Records: records });
    expect(out.batchItemFailures).toEqual([]);
    expect(publisher.types().slice(2)).toEqual([
      'RiskLevelChanged',
      'MarginCallTriggered',
      'TradingRestrictionChanged',
    ]);
    expect(await deps.repo.getRiskState('A1')).toMatchObject({ level: 'LIQUIDATION', inMarginCall: true });
  });

  it('a wide fan-out goes to the work queue in batches, and the worker evaluates them', async () => {
    clock = new Date(clock.getTime() + 60_000);
    await put('accounts', { accountId: 'A2', model: 'reg-t', cash: '-1400' });
    await put('positions', { accountId: 'A2', instrument: 'SPY', quantity: '10', avgCost: '250' });
    await positionHandler()({ Records: await positionsTail.poll() });
    // At 260, A2 is 1,200 / 650 = 1.85 (WARNING): its band ends where 1,400 = 4.875·p, at 287.18.
    // A1 (LIQUIDATION, in a call) resolves its call where 21,000 = 73.75·p, at 284.75. 300 crosses both.
    expect(await deps.repo.getRiskState('A2')).toMatchObject({ level: 'WARNING' });
    clock = new Date(clock.getTime() + 1_000);
    const priceTime = at(0);
    await deps.repo.putPriceIfNewer({ instrument: 'SPY', price: '300', priceTime });
    const out = await priceHandler()({ Records: await pricesTail.poll() });
    expect(out.batchItemFailures).toEqual([]);
    // The message carries the tick that found its accounts, so a later tick of the same wave is skipped.
    expect(workQueue.messages).toEqual([
      { kind: 'accounts', accountIds: ['A1', 'A2'], reason: 'prices:SPY', ticks: { SPY: priceTime } },
    ]);
    const worker = makeWorkQueueHandler(() => deps);
    expect((await worker(await sqsEvent())).batchItemFailures).toEqual([]);
    expect(await deps.repo.getRiskState('A2')).toMatchObject({ level: 'SAFE', equity: '1600' });
    expect(await deps.repo.getRiskState('A1')).toMatchObject({ level: 'LIQUIDATION', inMarginCall: false });
  });

  it('the sweep re-evaluates every account through parallel segments and flags stale prices', async () => {
    clock = new Date(clock.getTime() + 10 * 60_000); // SPY's price is now 10 minutes old
    await makeSweepHandler(() => deps)({ id: 'e1', time: clock.toISOString() });
    expect(workQueue.messages.map((m) => m.kind === 'segment' && m.segment)).toEqual([0, 1, 2]);
    const worker = makeWorkQueueHandler(() => deps);
    expect((await worker(await sqsEvent())).batchItemFailures).toEqual([]);
    for (const id of ['A1', 'A2']) {
      expect(await deps.repo.getRiskState(id)).toMatchObject({
        staleInstruments: ['SPY'],
        dataProblem: { kind: 'stale-prices' },
      });
    }
    expect(publisher.types().filter((t) => t === 'RiskDataProblem')).toHaveLength(2);
  });

  it('invalid stored data goes to the dead-letter queue with the field named, once', async () => {
    clock = new Date(clock.getTime() + 60_000);
    await put('prices', { instrument: 'QQQ', price: '400', priceTime: at(0) });
    await put('accounts', { accountId: 'BAD', model: 'reg-t', cash: '1000' });
    await put('positions', { accountId: 'BAD', instrument: 'QQQ', quantity: 'lots' });
    const handler = positionHandler();
    const records = await positionsTail.poll();
    expect((await handler({ Records: records })).batchItemFailures).toEqual([]);
    expect((await handler({ Records: records })).batchItemFailures).toEqual([]); // redelivery
    expect(deadLetter.records.map((r) => r.reason)).toEqual(['invalid-account-data']);
    expect(JSON.stringify(deadLetter.records[0]!.issues)).toContain('positions[0].quantity');
    expect(await deps.repo.getRiskState('BAD')).toMatchObject({ dataProblem: { kind: 'invalid-data' } });
  });

  it('a cash withdrawal (accounts stream) re-evaluates; a failed publish keeps the events in the outbox for the retry', async () => {
    clock = new Date(clock.getTime() + 60_000);
    await put('prices', { instrument: 'SPY', price: '300', priceTime: at(0) });
    await accountsTail.poll();
    // A2: 10 SPY at 300 with cash −2,200 → equity 800, maintenance 750: ratio 1.067, LIQUIDATION.
    await put('accounts', { accountId: 'A2', model: 'reg-t', cash: '-2200' });
    const records = await accountsTail.poll();
    expect(records).toHaveLength(1);
    publisher.failNext = 1;
    const before = publisher.events.length;
    const out = await positionHandler()({ Records: records });
    expect(out.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(
      records.map((r) => r.dynamodb!.SequenceNumber),
    );
    const pending = (await deps.repo.getRiskState('A2'))!.outbox;
    expect(pending.length).toBeGreaterThan(0);
    // The retry publishes what was committed, then clears the outbox.
    expect((await positionHandler()({ Records: records })).batchItemFailures).toEqual([]);
    expect(publisher.events.slice(before)).toEqual(pending);
    expect(pending.map((e) => e.detailType)).toContain('RiskLevelChanged');
    expect((await deps.repo.getRiskState('A2'))!).toMatchObject({ level: 'LIQUIDATION', outbox: [] });
  });
});
