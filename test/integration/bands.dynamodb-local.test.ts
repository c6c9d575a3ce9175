import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BandConflict, BandRepository } from '../../functions/lib/bands-repository.ts';
import { evaluateAccount } from '../../functions/lib/evaluate-account.ts';
import { RiskRepository } from '../../functions/lib/risk-repository.ts';
import type { HandlerDeps } from '../../functions/lib/runtime.ts';
import { Tally } from '../../functions/lib/telemetry.ts';
import { makePositionStreamHandler } from '../../functions/position-stream/handler.ts';
import { makePriceStreamHandler } from '../../functions/price-stream/handler.ts';
import { makeWatchHandler } from '../../functions/watch/handler.ts';
import { makeWorkQueueHandler } from '../../functions/work-queue/handler.ts';
import { StreamTail } from '../../local/stream-tail.ts';
import { createTables, localClient } from '../../local/tables.ts';
import { testDynamoDb, type TestDynamoDb } from '../helpers/dynamodb.ts';
import { planBandWrite, shardOf } from '../../shared/bands/band-rows.ts';
import type { BandSet } from '../../shared/bands/price-bands.ts';
import { Decimal } from '../../shared/decimal.ts';
import { DEFAULT_PIPELINE_CONFIG } from '../../shared/pipeline/config.ts';
import { newlyStaleInstruments } from '../../shared/pipeline/newly-stale.ts';
import type { PriceItem } from '../../shared/pipeline/records.ts';
import { CapturedDeadLetter, CapturedPublisher, CapturedWorkQueue } from '../helpers/capture.ts';

let db: TestDynamoDb;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let tables: Awaited<ReturnType<typeof createTables>>;
let repo: RiskRepository;
let bands: BandRepository;
let positionsTail: StreamTail;
let pricesTail: StreamTail;
let publisher: CapturedPublisher;
let workQueue: CapturedWorkQueue;
let telemetry: Tally;
let clock = Date.parse('2026-03-02T15:00:00.000Z');
const iso = (ms = clock) => new Date(ms).toISOString();

function deps(store: RiskRepository = repo): HandlerDeps {
  return {
    store,
    repo,
    bands,
    publisher,
    deadLetter: new CapturedDeadLetter(),
    workQueue,
    config: DEFAULT_PIPELINE_CONFIG,
    telemetry,
    env: { sweepSegments: 1, inlineFanoutLimit: 100 },
    log: { info: () => {}, warn: () => {}, error: () => {} },
    concurrency: 4,
    // Every evaluation is a moment later than the one before, as in production.
    now: () => new Date((clock += 1_000)),
  };
}

const put = (t: keyof typeof tables, Item: Record<string, unknown>) =>
  doc.send(new PutCommand({ TableName: tables[t], Item }));
const evaluations = () => telemetry.counts.get('Evaluations') ?? 0;
const tick = async (instrument: string, price: string) => {
  await repo.putPriceIfNewer({ instrument, price, priceTime: iso((clock += 1_000)) });
  return makePriceStreamHandler(() => deps())({ Records: await pricesTail.poll() });
};

beforeAll(async () => {
  db = await testDynamoDb();
  client = localClient(db.endpoint);
  doc = DynamoDBDocumentClient.from(client);
  tables = await createTables(client, db.prefix('bands'));
  repo = new RiskRepository(client, tables);
  bands = new BandRepository(client, tables.bands, 3);
  positionsTail = StreamTail.forEndpoint(client, db.endpoint, tables.positions);
  pricesTail = StreamTail.forEndpoint(client, db.endpoint, tables.prices);
}, 120_000);
afterAll(async () => db?.stop());
beforeEach(() => {
  publisher = new CapturedPublisher();
  workQueue = new CapturedWorkQueue();
  telemetry = new Tally();
});

describe('guard bands on DynamoDB Local', () => {
  it('setup: three Reg T books on SPY (one also on QQQ) are evaluated and banded', async () => {
    await put('prices', { instrument: 'SPY', price: '400', priceTime: iso() });
    await put('prices', { instrument: 'QQQ', price: '300', priceTime: iso() });
    // B1: 16,000 / 10,000 = 1.6 (WARNING): stays while 384 ≤ SPY ≤ 492.31.
    // B2: 30,000 / 10,000 = 3 (SAFE): stays while SPY > 200.
    // B3: 45,000 / 12,500 = 3.6 (SAFE): SPY gets 40% of the 20,000 slack at 25 a dollar: above 80.
    await put('accounts', { accountId: 'B1', model: 'reg-t', cash: '-24000' });
    await put('accounts', { accountId: 'B2', model: 'reg-t', cash: '-10000' });
    await put('accounts', { accountId: 'B3', model: 'reg-t', cash: '-5000' });
    await put('positions', { accountId: 'B1', instrument: 'SPY', quantity: '100', avgCost: '400' });
    await put('positions', { accountId: 'B2', instrument: 'SPY', quantity: '100', avgCost: '400' });
    await put('positions', { accountId: 'B3', instrument: 'SPY', quantity: '50', avgCost: '400' });
    await put('positions', { accountId: 'B3', instrument: 'QQQ', quantity: '100', avgCost: '300' });
    const out = await makePositionStreamHandler(() => deps())({ Records: await positionsTail.poll() });
    expect(out.batchItemFailures).toEqual([]);
    await pricesTail.poll(); // the seed prices themselves
    expect((await bands.getBandSummary('B1'))!.rows).toEqual({
      SPY: { low: '384.000000001', high: '492.307692307' },
    });
    expect((await bands.getBandSummary('B2'))!.rows).toEqual({ SPY: { low: '200.000000001', high: null } });
    expect((await bands.getBandSummary('B3'))!.rows.SPY).toEqual({ low: '80.0000000001', high: null });
  });

  it('a tick inside every band evaluates nothing and publishes nothing', async () => {
    const out = await tick('SPY', '401.50');
    expect(out.batchItemFailures).toEqual([]);
    expect(evaluations()).toBe(0);
    expect(publisher.events).toEqual([]);
  });

  it('a tick across one account’s band evaluates that account only, with the right event', async () => {
    // 380: B1 = 14,000 / 9,500 = 1.47 → CRITICAL; B2 and B3 are far from their bands.
    const out = await tick('SPY', '380');
    expect(out.batchItemFailures).toEqual([]);
    expect(evaluations()).toBe(1);
    expect(
      publisher.events.map((e) => [e.detailType, e.detail.accountId, (e.detail as { to?: string }).to]),
    ).toEqual([
      ['RiskLevelChanged', 'B1', 'CRITICAL'],
      ['TradingRestrictionChanged', 'B1', 'no-new-risk'],
    ]);
    // B1's band moved with it: CRITICAL holds for 1.2 ≤ ratio < 1.55, i.e. 100p − 24,000 ≥ 30p and
    // 100p − 24,000 < 38.75p: 342.857… ≤ SPY < 391.836…
    expect((await bands.getBandSummary('B1'))!.rows.SPY).toEqual({
      low: '342.857142858',
      high: '391.836734693',
    });
  });

  it('a tick that lands between an evaluation’s price read and its band write is caught by the re-check', async () => {
    // R1: 5,000 / 2,500 = 2.0 (WARNING) at 100; its band will be (80, 102.56). While it is being evaluated,
    // XYZ ticks to 70 — the tick's own query still sees no band for R1 — then the band is written.
    await put('prices', { instrument: 'XYZ', price: '100', priceTime: iso() });
    await put('accounts', { accountId: 'R1', model: 'reg-t', cash: '-5000' });
    await put('positions', { accountId: 'R1', instrument: 'XYZ', quantity: '100', avgCost: '100' });
    await positionsTail.poll();
    await pricesTail.poll();
    let reads = 0;
    const racing = Object.create(repo) as RiskRepository;
    racing.getPrices = async (instruments) => {
      const prices = await repo.getPrices(instruments);
      if (reads++ === 0)
        await repo.putPriceIfNewer({ instrument: 'XYZ', price: '70', priceTime: iso(clock + 500) });
      return prices;
    };
    await evaluateAccount('R1', deps(racing));
    expect(telemetry.counts.get('BandRechecks')).toBe(1);
    // At 70: 2,000 / 1,750 = 1.14 → LIQUIDATION, seen straight after the first write.
    expect(
      publisher.events
        .filter((e) => e.detailType === 'RiskLevelChanged')
        .map((e) => (e.detail as { to?: string }).to),
    ).toEqual(['WARNING', 'LIQUIDATION']);
    expect(await repo.getRiskState('R1')).toMatchObject({ level: 'LIQUIDATION' });
  });

  it('the watch sweep finds unbanded accounts and the holders of prices that just went stale', async () => {
    await put('accounts', { accountId: 'W1', model: 'reg-t', cash: '1000' });
    await put('positions', { accountId: 'W1', instrument: 'NOPX', quantity: '10', avgCost: '5' }); // no price yet
    await put('accounts', { accountId: 'S1', model: 'reg-t', cash: '1000' });
    await put('positions', { accountId: 'S1', instrument: 'OLD', quantity: '10', avgCost: '5' });
    await put('accounts', { accountId: 'S2', model: 'reg-t', cash: '1000' });
    await put('positions', { accountId: 'S2', instrument: 'ANCIENT', quantity: '10', avgCost: '5' });
    await put('prices', { instrument: 'OLD', price: '5', priceTime: iso(clock) });
    await put('prices', { instrument: 'ANCIENT', price: '5', priceTime: iso(clock - 3_600_000) });
    for (const id of ['W1', 'S1']) await evaluateAccount(id, deps());
    expect((await bands.getBandSummary('W1'))!.always).toBe('missing-prices');
    clock += 6 * 60_000; // OLD is now 6 minutes old: stale since a minute ago; the others tick on
    for (const [instrument, price] of [
      ['SPY', '380'],
      ['QQQ', '300'],
      ['XYZ', '70'],
    ])
      await put('prices', { instrument, price, priceTime: iso() });
    const result = await makeWatchHandler(() => deps(), 180_000)({ id: 'w1', time: iso() });
    expect(result).toMatchObject({ watched: 1, staleInstruments: ['OLD'], staleHolders: 1 });
    expect(workQueue.messages).toEqual([{ kind: 'accounts', accountIds: ['S1', 'W1'], reason: 'watch:w1' }]);
    // W1's first price is a tick its always-evaluate row catches.
    await positionsTail.poll();
    await pricesTail.poll();
    workQueue.drain();
    await tick('NOPX', '5');
    // Unbanded accounts go through the coalescing queue (one message per account and second).
    const coalesced = workQueue.drain();
    expect(coalesced).toEqual([
      { kind: 'accounts', accountIds: ['W1'], reason: 'prices:NOPX', coalesce: true },
    ]);
    const worker = makeWorkQueueHandler(() => deps());
    const drained = await worker({
      Records: coalesced.map((m, i) => ({ messageId: `m${i}`, body: JSON.stringify(m) })),
    } as unknown as SQSEvent);
    expect(drained.batchItemFailures).toEqual([]);
    expect(evaluations()).toBe(3); // S1 and W1 by hand, then W1 found by the tick
    expect((await bands.getBandSummary('W1'))!.always).toBeNull();
  });

  it('the watch sweep reads each price’s session: a closing price does not age after the close', async () => {
    // Friday 2026-03-06 16:00 EST close of a us-equity instrument; the watch runs six minutes later.
    const close = { instrument: 'FRICLOSE', price: '50', priceTime: '2026-03-06T21:00:00.000Z' };
    await put('prices', { ...close, session: 'us-equity', source: 'feed' });
    const scanned: PriceItem[] = [];
    for await (const page of repo.scanPrices()) scanned.push(...page);
    expect(scanned.find((p) => p.instrument === 'FRICLOSE')).toEqual({
      instrument: 'FRICLOSE',
      priceTime: close.priceTime,
      session: 'us-equity',
    });
    const later = new Date('2026-03-06T21:06:00.000Z');
    const fri = scanned.filter((p) => p.instrument === 'FRICLOSE');
    expect(newlyStaleInstruments(fri, later, 300_000, 180_000)).toEqual([]);
    // Without its session the price could be 24x7, stale since 21:05: every holder would be enqueued.
    const unnamed = { instrument: 'FRICLOSE', priceTime: close.priceTime };
    expect(newlyStaleInstruments([unnamed], later, 300_000, 180_000)).toEqual(['FRICLOSE']);
  });

  it('an account with more rows than one transaction holds is banded in chunks, the summary last', async () => {
    const instruments = Array.from({ length: 120 }, (_, i) => `C${String(i).padStart(3, '0')}`);
    await put('accounts', { accountId: 'BIG', model: 'gross', cash: '-30000' });
    for (let i = 0; i < instruments.length; i += 12) {
      const slice = instruments.slice(i, i + 12);
      await doc.send(
        new BatchWriteCommand({
          RequestItems: {
            [tables.positions]: slice.map((instrument) => ({
              PutRequest: { Item: { accountId: 'BIG', instrument, quantity: '10', avgCost: '50' } },
            })),
            [tables.prices]: slice.map((instrument) => ({
              PutRequest: { Item: { instrument, price: '50', priceTime: iso() } },
            })),
          },
        }),
      );
    }
    await evaluateAccount('BIG', deps());
    expect(Object.keys((await bands.getBandSummary('BIG'))!.rows)).toHaveLength(120);
    // C119 falls from 50 to just below its lower bound: that bound lies in the buckets crossed.
    const low = (await bands.getBandSummary('BIG'))!.rows.C119!.low!;
    const below = new Decimal(low).mul('0.999').toString();
    const found = await bands.crossedAccounts({
      instrument: 'C119',
      price: below,
      lowest: below,
      highest: '50',
    });
    expect(found?.bounded).toEqual(['BIG']);
    telemetry = new Tally();
    await evaluateAccount('BIG', deps()); // nothing moved: nothing to rewrite
    expect(telemetry.counts.get('BandWrites')).toBeUndefined();
  });

  it('an account that is deleted leaves no band behind', async () => {
    // A fall to 199 crosses B2's lower bound (200.000000001) — until B2 is deleted.
    const fall = { instrument: 'SPY', price: '199', lowest: '199', highest: '401' };
    expect((await bands.crossedAccounts(fall))!.bounded).toContain('B2');
    await doc.send(new DeleteCommand({ TableName: tables.accounts, Key: { accountId: 'B2' } }));
    await evaluateAccount('B2', deps());
    const found = await bands.crossedAccounts(fall);
    expect([...found!.bounded, ...found!.unbanded]).not.toContain('B2');
  });

  describe('band writes without a transaction', () => {
    // Each plan has its own basis (a new book or state), so no stored box counts as still proven.
    const banded = (low: string, high: string | null = null): BandSet => ({
      kind: 'banded',
      bands: [
        {
          instrument: 'RX',
          price: new Decimal('100'),
          low: new Decimal(low),
          high: high ? new Decimal(high) : null,
        },
      ],
    });
    const fall = (to: string) => ({ instrument: 'RX', price: to, lowest: to, highest: '100' });

    it('a slow write never deletes an item that a later write has put again', async () => {
      await bands.writeBands(planBandWrite('RACE1', null, banded('80'), ['RX'], 3, 'b1')!);
      // The slow writer moves the bound 80 → 90; between its summary and its deletes, a later evaluation
      // moves it back to 80 (and adds a high bound): the item for 80 is the later one's now.
      let raced = false;
      const slowClient = localClient(db.endpoint);
      slowClient.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'DeleteItemCommand' && !raced) {
            raced = true;
            const current = await bands.getBandSummary('RACE1');
            expect(current!.rows.RX).toEqual({ low: '90', high: null });
            await bands.writeBands(planBandWrite('RACE1', current, banded('80', '150'), ['RX'], 3, 'b2')!);
          }
          return next(args);
        },
        { step: 'initialize' },
      );
      const slow = new BandRepository(slowClient, tables.bands, 3);
      const stored = await bands.getBandSummary('RACE1');
      await slow.writeBands(planBandWrite('RACE1', stored, banded('90'), ['RX'], 3, 'b3')!);
      expect(raced).toBe(true);
      expect((await bands.getBandSummary('RACE1'))!.rows.RX).toEqual({ low: '80', high: '150' });
      expect((await bands.crossedAccounts(fall('79')))!.bounded).toContain('RACE1');
      // …and the slow writer's own bound (90) is gone: a fall to 85 crosses nothing of RACE1's.
      expect((await bands.crossedAccounts(fall('85')))!.bounded).not.toContain('RACE1');
    });

    it('the loser of a race deletes the items it put ahead of its summary; the winner keeps all of its own', async () => {
      await bands.writeBands(planBandWrite('RACE2', null, banded('80'), ['RX'], 3, 'b4')!);
      const both = await bands.getBandSummary('RACE2');
      await bands.writeBands(planBandWrite('RACE2', both, banded('90'), ['RX'], 3, 'b5')!);
      const lost = await bands.writeBands(planBandWrite('RACE2', both, banded('95'), ['RX'], 3, 'b6')!).then(
        () => null,
        (e: unknown) => e,
      );
      expect(lost).toBeInstanceOf(BandConflict);
      expect((lost as BandConflict).written).toHaveLength(1); // the item for 95, stored without a summary
      expect((await bands.crossedAccounts(fall('94')))!.bounded).toContain('RACE2'); // found once for nothing
      const winner = await bands.getBandSummary('RACE2');
      await bands.writeBands(
        planBandWrite('RACE2', winner, banded('85', '150'), ['RX'], 3, 'b7')!,
        (lost as BandConflict).written,
      );
      expect((await bands.crossedAccounts(fall('94')))!.bounded).not.toContain('RACE2');
      expect((await bands.crossedAccounts(fall('84')))!.bounded).toContain('RACE2');
    });
  });

  it('striped over two tables: each account’s items in its shard’s stripe, unbanded rows in the first; ticks find both', async () => {
    const second = await createTables(client, db.prefix('stripe2'));
    const striped = new BandRepository(client, [tables.bands, second.bands], 4);
    const shard = (id: string) => shardOf(id, 4);
    const ids = ['S-A', 'S-B', 'S-C', 'S-D', 'S-E', 'S-F'];
    const odd = ids.find((id) => shard(id) % 2 === 1)!;
    const even = ids.find((id) => shard(id) % 2 === 0)!;
    const rx: BandSet = {
      kind: 'banded',
      bands: [{ instrument: 'SX', price: new Decimal('100'), low: new Decimal('90'), high: null }],
    };
    for (const id of [odd, even]) await striped.writeBands(planBandWrite(id, null, rx, ['SX'], 4, 'b')!);
    await striped.writeBands(
      planBandWrite('S-U', null, { kind: 'always', reason: 'missing-prices' }, ['SX'], 4, 'b')!,
    );
    const keysIn = async (table: string) =>
      ((await doc.send(new ScanCommand({ TableName: table, ConsistentRead: true }))).Items ?? [])
        .map((i) => `${i.partition as string} ${i.sk as string}`)
        .filter((k) => k.includes('S-'));
    const inSecond = await keysIn(second.bands);
    expect(inSecond.some((k) => k.startsWith(`a#${odd}`))).toBe(true);
    expect(inSecond.some((k) => k.startsWith('l#SX') && k.endsWith(odd))).toBe(true);
    expect(inSecond.join('\n')).not.toContain(even);
    expect(inSecond.join('\n')).not.toContain('x#SX'); // unbanded rows: the first stripe only
    const inFirst = await keysIn(tables.bands);
    expect(inFirst).toContain('x#SX S-U');
    expect(inFirst.some((k) => k.startsWith(`a#${even}`))).toBe(true);
    // A fall to 89 crosses both accounts' bounds, in both tables, and finds the unbanded one.
    expect(
      await striped.crossedAccounts({ instrument: 'SX', price: '89', lowest: '89', highest: '100' }),
    ).toEqual({
      bounded: [even, odd].sort(),
      unbanded: ['S-U'],
    });
    expect(await striped.getBandSummary(odd)).toMatchObject({ version: 1 });
    const watched: string[] = [];
    for await (const page of striped.watchedAccounts()) watched.push(...page);
    expect(watched).toContain('S-U');
  });
});
