import { BandRepository } from '../../functions/lib/bands-repository.ts';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runStep, type EscalationDeps } from '../../functions/escalation/steps.ts';
import { ActionsRepository, SettingsRepository } from '../../functions/lib/actions-repository.ts';
import { evaluateAccount } from '../../functions/lib/evaluate-account.ts';
import { RiskRepository } from '../../functions/lib/risk-repository.ts';
import type { HandlerDeps } from '../../functions/lib/runtime.ts';
import { Tally } from '../../functions/lib/telemetry.ts';
import { makePositionStreamHandler } from '../../functions/position-stream/handler.ts';
import { idempotentOnEventId, makeSweepHandler } from '../../functions/sweep/handler.ts';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { StreamTail } from '../../local/stream-tail.ts';
import { createTables, localClient } from '../../local/tables.ts';
import { testDynamoDb, type TestDynamoDb } from '../helpers/dynamodb.ts';
import { DEFAULT_PIPELINE_CONFIG } from '../../shared/pipeline/config.ts';
import {
  CapturedDeadLetter,
  CapturedNotifier,
  CapturedPublisher,
  CapturedWorkQueue,
} from '../helpers/capture.ts';

let db: TestDynamoDb;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let tables: Awaited<ReturnType<typeof createTables>>;
let repo: RiskRepository;
let publisher: CapturedPublisher;
let telemetry: Tally;
let clock = new Date('2026-05-04T14:00:00.000Z');
let n = 0;

beforeAll(async () => {
  db = await testDynamoDb();
  client = localClient(db.endpoint);
  doc = DynamoDBDocumentClient.from(client);
  tables = await createTables(client, db.prefix('faults'));
  repo = new RiskRepository(client, tables);
}, 120_000);
afterAll(async () => db?.stop());
beforeEach(() => {
  publisher = new CapturedPublisher();
  telemetry = new Tally();
  clock = new Date(clock.getTime() + 3_600_000);
});

const put = (t: keyof typeof tables, Item: Record<string, unknown>) =>
  doc.send(new PutCommand({ TableName: tables[t], Item }));
const distinct = (type: string) =>
  new Set(publisher.events.filter((e) => e.detailType === type).map((e) => e.detail.eventId)).size;

function deps(store = repo): HandlerDeps {
  return {
    store,
    repo,
    bands: new BandRepository(client, tables.bands, 2),
    publisher,
    deadLetter: new CapturedDeadLetter(),
    workQueue: new CapturedWorkQueue(),
    config: DEFAULT_PIPELINE_CONFIG,
    telemetry,
    env: { sweepSegments: 1, inlineFanoutLimit: 100 },
    log: { info: () => {}, warn: () => {}, error: () => {} },
    concurrency: 8,
    now: () => clock,
  };
}

/** A Reg T book of 100 shares; returns its id and instrument. */
async function book(cash: string, price: string) {
  const accountId = `F${++n}`;
  const instrument = `I${n}`;
  await put('prices', { instrument, price, priceTime: clock.toISOString() });
  await put('accounts', { accountId, model: 'reg-t', cash });
  await put('positions', { accountId, instrument, quantity: '100', avgCost: price });
  return { accountId, instrument };
}

describe('fault suite', () => {
  it('DynamoDB throttling on the state write: the batch is retried, nothing lost, nothing doubled', async () => {
    const { accountId } = await book('-6200', '100');
    const tail = StreamTail.forEndpoint(client, db.endpoint, tables.positions);
    const records = (await tail.poll()).filter((r) => JSON.stringify(r.dynamodb?.Keys).includes(accountId));
    let throttles = 1;
    const flaky = Object.create(repo) as RiskRepository;
    flaky.saveRiskState = async (...args) => {
      if (throttles-- > 0)
        throw Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' });
      return repo.saveRiskState(...args);
    };
    const handler = makePositionStreamHandler(() => deps(flaky));
    const first = await handler({ Records: records });
    expect(first.batchItemFailures).toHaveLength(records.length);
    expect(await repo.getRiskState(accountId)).toBeNull();
    expect((await handler({ Records: records })).batchItemFailures).toEqual([]);
    expect(await repo.getRiskState(accountId)).toMatchObject({ version: 1, level: 'WARNING' });
    expect(distinct('RiskLevelChanged')).toBe(1);
  });

  it('concurrent evaluations of one account: one write wins, the rest re-read; one event', async () => {
    const { accountId, instrument } = await book('-6200', '100');
    await evaluateAccount(accountId, deps());
    clock = new Date(clock.getTime() + 60_000);
    await put('prices', { instrument, price: '90', priceTime: clock.toISOString() }); // 2,800 / 2,250 = 1.24 → CRITICAL
    await Promise.all(Array.from({ length: 8 }, () => evaluateAccount(accountId, deps())));
    const state = await repo.getRiskState(accountId);
    expect(state).toMatchObject({ version: 2, level: 'CRITICAL', outbox: [] });
    expect(distinct('RiskLevelChanged')).toBe(2); // first evaluation + the one change
    expect(telemetry.counts.get('StateWrites')).toBe(2);
  });

  it('duplicate and reordered stream records change nothing twice', async () => {
    const { accountId } = await book('-6200', '100');
    const tail = StreamTail.forEndpoint(client, db.endpoint, tables.positions);
    const records = (await tail.poll()).filter((r) => JSON.stringify(r.dynamodb?.Keys).includes(accountId));
    const handler = makePositionStreamHandler(() => deps());
    await handler({ Records: [...records, ...records].reverse() });
    await handler({ Records: records });
    expect((await repo.getRiskState(accountId))!.version).toBe(1);
    expect(distinct('RiskLevelChanged')).toBe(1);
    expect(publisher.events.filter((e) => e.detailType === 'RiskLevelChanged')).toHaveLength(1);
  });

  it('a price that disappears is flagged as missing, never silently reused', async () => {
    const { accountId, instrument } = await book('-6200', '100');
    await evaluateAccount(accountId, deps());
    await doc.send(new DeleteCommand({ TableName: tables.prices, Key: { instrument } }));
    clock = new Date(clock.getTime() + 60_000);
    await evaluateAccount(accountId, deps());
    expect((await repo.getRiskState(accountId))!.dataProblem).toMatchObject({
      kind: 'missing-prices',
      instruments: [instrument],
    });
    expect(publisher.types()).toContain('RiskDataProblem');
  });

  it('SNS failing during an alert: the step fails, the retry sends it, exactly once', async () => {
    const { accountId } = await book('-6200', '100');
    await evaluateAccount(accountId, deps());
    const incidentId = (await repo.getRiskState(accountId))!.tracker.incident!.id;
    const notifier = new CapturedNotifier();
    let failures = 1;
    const escalation: EscalationDeps = {
      ...deps(),
      actions: new ActionsRepository(client, tables.actions),
      settings: new SettingsRepository(client, tables.settings),
      notifier: {
        notify: async (channel, message) => {
          if (failures-- > 0)
            throw Object.assign(new Error('SNS unavailable'), { name: 'InternalErrorException' });
          return notifier.notify(channel, message);
        },
      },
    };
    await expect(runStep({ action: 'alert', accountId, incidentId }, escalation)).rejects.toThrow(
      'SNS unavailable',
    );
    expect((await runStep({ action: 'alert', accountId, incidentId }, escalation)).performed).toBe(true);
    expect((await runStep({ action: 'alert', accountId, incidentId }, escalation)).performed).toBe(false);
    expect(notifier.kinds()).toEqual(['alerts:alert']);
  });

  it('a scheduled sweep delivered twice runs once (Powertools idempotency on the Idempotency table)', async () => {
    const d = deps();
    const sweep = idempotentOnEventId(
      makeSweepHandler(() => d),
      new DynamoDBPersistenceLayer({ tableName: tables.idempotency, awsSdkV3Client: client }),
    );
    const event = { id: 'schedule-event-1', time: clock.toISOString() };
    expect(await sweep(event)).toEqual({ segments: 1 });
    expect(await sweep(event)).toEqual({ segments: 1 }); // the stored result, not a second run
    expect((d.workQueue as CapturedWorkQueue).messages).toHaveLength(1);
    await sweep({ id: 'schedule-event-2', time: clock.toISOString() });
    expect((d.workQueue as CapturedWorkQueue).messages).toHaveLength(2);
  });
});
