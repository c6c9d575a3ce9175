/**
 * The ingestion contract end to end on DynamoDB Local, through the bus handler (functions/ingest): an
 * account and book created, changed, reordered and replayed; stale updates refused; a bad book rejected
 * whole; and the evaluation that follows each change, from the position and account streams.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleIngestEvent, NotYetApplicable, type IngestDeps } from '../../functions/ingest/handler.ts';
import { BandRepository } from '../../functions/lib/bands-repository.ts';
import { IngestRepository } from '../../functions/lib/ingest-repository.ts';
import { RiskRepository } from '../../functions/lib/risk-repository.ts';
import type { HandlerDeps } from '../../functions/lib/runtime.ts';
import { Tally } from '../../functions/lib/telemetry.ts';
import { makePositionStreamHandler } from '../../functions/position-stream/handler.ts';
import { StreamTail } from '../../local/stream-tail.ts';
import { createTables, localClient } from '../../local/tables.ts';
import { DEFAULT_PIPELINE_CONFIG } from '../../shared/pipeline/config.ts';
import { CapturedDeadLetter, CapturedPublisher, CapturedWorkQueue } from '../helpers/capture.ts';
import { testDynamoDb, type TestDynamoDb } from '../helpers/dynamodb.ts';

let db: TestDynamoDb;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let tables: Awaited<ReturnType<typeof createTables>>;
let repo: RiskRepository;
let positionsTail: StreamTail;
let accountsTail: StreamTail;
const deadLetter = new CapturedDeadLetter();
const telemetry = new Tally();
const publisher = new CapturedPublisher();
let clock = Date.parse('2026-03-02T15:00:00.000Z');

let ingestDeps: IngestDeps;
const send = (detail: Record<string, unknown>) =>
  handleIngestEvent(
    { 'detail-type': String(detail.type), detail: { schemaVersion: 1, ...detail } },
    ingestDeps,
  );

function evaluatorDeps(): HandlerDeps {
  return {
    store: repo,
    repo,
    bands: new BandRepository(client, tables.bands, 2),
    publisher,
    deadLetter,
    workQueue: new CapturedWorkQueue(),
    config: DEFAULT_PIPELINE_CONFIG,
    telemetry,
    env: { sweepSegments: 1, inlineFanoutLimit: 100 },
    log: { info: () => {}, warn: () => {}, error: () => {} },
    concurrency: 2,
    now: () => new Date((clock += 1_000)),
  };
}
/** The streams' evaluation of what the ingestion wrote (both tables feed the position-stream handler). */
async function evaluateChanges() {
  const Records = [...(await accountsTail.poll()), ...(await positionsTail.poll())];
  const out = await makePositionStreamHandler(evaluatorDeps)({ Records });
  expect(out.batchItemFailures).toEqual([]);
}
const state = async (accountId: string) =>
  (await doc.send(new GetCommand({ TableName: tables.riskState, Key: { accountId }, ConsistentRead: true })))
    .Item;
const book = async (accountId: string) =>
  (
    (
      await doc.send(
        new QueryCommand({
          TableName: tables.positions,
          KeyConditionExpression: 'accountId = :a',
          ExpressionAttributeValues: { ':a': accountId },
          ConsistentRead: true,
        }),
      )
    ).Items ?? []
  )
    .filter((p) => p.quantity !== '0')
    .map((p) => `${p.instrument} ${p.quantity}@${p.sequence}`)
    .sort();

beforeAll(async () => {
  db = await testDynamoDb();
  client = localClient(db.endpoint);
  doc = DynamoDBDocumentClient.from(client);
  tables = await createTables(client, db.prefix('ingest'));
  repo = new RiskRepository(client, tables);
  positionsTail = StreamTail.forEndpoint(client, db.endpoint, tables.positions);
  accountsTail = StreamTail.forEndpoint(client, db.endpoint, tables.accounts);
  ingestDeps = {
    ingest: new IngestRepository(client, tables, undefined, () => new Date(clock)),
    prices: repo,
    deadLetter,
    telemetry,
    log: { info: () => {} },
  };
}, 120_000);
afterAll(async () => db?.stop());

describe('ingestion through the bus on DynamoDB Local', () => {
  it('creates an account and its book, and the streams evaluate it', async () => {
    const priceTime = new Date(clock).toISOString();
    expect(
      await send({
        type: 'PriceTicks',
        ticks: [
          { instrument: 'SPY', price: '400', priceTime },
          { instrument: 'QQQ', price: '300', priceTime },
        ],
      }),
    ).toEqual({ status: 'prices', stored: 2, stale: 0 });
    // A position before its account: refused for now (thrown, so the bus retries it), nothing written.
    await expect(
      send({
        type: 'PositionChanged',
        accountId: 'I1',
        instrument: 'SPY',
        sequence: 2,
        position: { quantity: '100' },
      }),
    ).rejects.toThrow(NotYetApplicable);
    expect(
      await send({
        type: 'AccountUpserted',
        accountId: 'I1',
        sequence: 1,
        account: { model: 'reg-t', cash: '-24000' },
      }),
    ).toEqual({
      status: 'applied',
    });
    // The retry of the same position now lands.
    expect(
      await send({
        type: 'PositionChanged',
        accountId: 'I1',
        instrument: 'SPY',
        sequence: 2,
        position: { quantity: '100', avgCost: '400' },
      }),
    ).toEqual({ status: 'applied' });
    await evaluateChanges();
    // Reg T: equity 40,000 − 24,000 = 16,000; maintenance 25% of 40,000 = 10,000: ratio 1.6, WARNING.
    expect(await state('I1')).toMatchObject({ level: 'WARNING', equity: '16000' });
  });

  it('applies reordered updates in sequence order, and replays change nothing', async () => {
    // Sent out of order: cash at 6, then the book replaced at 4, then QQQ at 5, then cash at 3.
    expect(await send({ type: 'CashChanged', accountId: 'I1', sequence: 6, cash: '-10000' })).toEqual({
      status: 'applied',
    });
    expect(
      await send({
        type: 'PositionsReplaced',
        accountId: 'I1',
        sequence: 4,
        positions: [{ instrument: 'SPY', quantity: '50', avgCost: '400' }],
      }),
    ).toEqual({ status: 'applied' });
    expect(
      await send({
        type: 'PositionChanged',
        accountId: 'I1',
        instrument: 'QQQ',
        sequence: 5,
        position: { quantity: '10', avgCost: '300' },
      }),
    ).toEqual({ status: 'applied' });
    expect(await send({ type: 'CashChanged', accountId: 'I1', sequence: 3, cash: '-99999' })).toEqual({
      status: 'stale',
    });
    // Replays of everything: all stale.
    for (const replay of [
      { type: 'CashChanged', accountId: 'I1', sequence: 6, cash: '-10000' },
      {
        type: 'PositionChanged',
        accountId: 'I1',
        instrument: 'SPY',
        sequence: 2,
        position: { quantity: '100', avgCost: '400' },
      },
      { type: 'PositionsReplaced', accountId: 'I1', sequence: 4, positions: [] },
    ])
      expect(await send(replay)).toEqual({ status: 'stale' });
    expect(await book('I1')).toEqual(['QQQ 10@5', 'SPY 50@4']);
    const account = (await doc.send(new GetCommand({ TableName: tables.accounts, Key: { accountId: 'I1' } })))
      .Item;
    expect(account).toMatchObject({ cash: '-10000', sequence: 1, cashSequence: 6, bookSequence: 4 });
    expect(telemetry.counts.get('IngestStale')).toBe(4);
    await evaluateChanges();
    // Equity 20,000 + 3,000 − 10,000 = 13,000; maintenance 25% of 23,000 = 5,750: ratio 2.26, SAFE.
    expect(await state('I1')).toMatchObject({ level: 'SAFE', equity: '13000' });
  });

  it('rejects a bad book whole, naming every bad field, and writes nothing', async () => {
    const before = await book('I1');
    expect(
      await send({
        type: 'PositionsReplaced',
        accountId: 'I1',
        sequence: 9,
        positions: [
          { instrument: 'SPY', quantity: 'fifty' },
          { instrument: 'IWM', quantity: '5', price: '200' },
          { instrument: 'DIA', quantity: '1', avgCst: '1' },
        ],
      }),
    ).toEqual({ status: 'invalid' });
    expect(deadLetter.records.at(-1)).toMatchObject({
      reason: 'invalid-ingest-update',
      issues: expect.arrayContaining([
        { field: 'positions[0].quantity', message: 'not a decimal number: "fifty"' },
        {
          field: 'positions[1].price',
          message: 'prices come from POST /prices (the price feed), not the position',
        },
        { field: 'positions[2].avgCst', message: 'unknown key (did you mean "avgCost"?)' },
      ]),
    });
    expect(await book('I1')).toEqual(before);
  });

  it('two updates racing on the same account both land, in sequence order', async () => {
    const results = await Promise.all([
      send({
        type: 'PositionChanged',
        accountId: 'I1',
        instrument: 'SPY',
        sequence: 11,
        position: { quantity: '60', avgCost: '400' },
      }),
      send({
        type: 'PositionsReplaced',
        accountId: 'I1',
        sequence: 10,
        positions: [{ instrument: 'SPY', quantity: '70', avgCost: '400' }],
      }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['applied', 'applied']);
    // Whichever wrote first, SPY ends at the newer update (11) and QQQ is closed by the book at 10.
    expect(await book('I1')).toEqual(['SPY 60@11']);
  });
});
