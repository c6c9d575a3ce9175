/**
 * `npm run load`: a load test on DynamoDB Local. N accounts × M positions over a universe of instruments,
 * then a burst of price ticks (a falling market). The real price-stream handler processes the real
 * stream records, so ticks go the guard-band path: only accounts whose band a tick crosses are evaluated.
 * Reports evaluations per tick against brute force (every holder), evaluations/s, p50/p99 tick-to-event
 * latency, and checks that no account was missed: a direct evaluation at the final prices, folded into
 * each account's stored risk state, changes nothing.
 *   LOAD_ACCOUNTS (300), LOAD_POSITIONS (10), LOAD_INSTRUMENTS (40), LOAD_TICKS (5)
 */
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BandRepository } from '../functions/lib/bands-repository.ts';
import { RiskRepository } from '../functions/lib/risk-repository.ts';
import type { HandlerDeps } from '../functions/lib/runtime.ts';
import { Tally } from '../functions/lib/telemetry.ts';
import { makePriceStreamHandler } from '../functions/price-stream/handler.ts';
import type { Publisher } from '../functions/lib/event-publisher.ts';
import { startDynamoDbLocal } from '../local/dynamodb-local.ts';
import { StreamTail } from '../local/stream-tail.ts';
import { createTables, localClient } from '../local/tables.ts';
import { Decimal } from '../shared/decimal.ts';
import type { DomainEvent } from '../shared/events/schemas.ts';
import { evaluate } from '../shared/margin/evaluate.ts';
import { pipelineConfigSchema } from '../shared/pipeline/config.ts';
import { DEFAULT_THRESHOLDS } from '../shared/risk/levels.ts';
import { riskStateFromJson } from '../shared/risk/tracker-json.ts';
import { track } from '../shared/risk/tracker.ts';
import { forEachLimit } from '../functions/lib/concurrency.ts';
import { evaluateAccount } from '../functions/lib/evaluate-account.ts';

const N = Number.parseInt(process.env.LOAD_ACCOUNTS ?? '300', 10);
const M = Number.parseInt(process.env.LOAD_POSITIONS ?? '10', 10);
const U = Number.parseInt(process.env.LOAD_INSTRUMENTS ?? '40', 10);
const TICKS = Number.parseInt(process.env.LOAD_TICKS ?? '5', 10);

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

async function batchPut(doc: DynamoDBDocumentClient, table: string, items: Record<string, unknown>[]) {
  for (let i = 0; i < items.length; i += 25) {
    let pending = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    while (pending.length) {
      const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = (out.UnprocessedItems?.[table] as typeof pending | undefined) ?? [];
    }
  }
}

const db = await startDynamoDbLocal();
try {
  const client = localClient(db.endpoint);
  const doc = DynamoDBDocumentClient.from(client);
  const tables = await createTables(client, 'load');
  const repo = new RiskRepository(client, tables);
  const instruments = Array.from({ length: U }, (_, i) => `S${String(i).padStart(3, '0')}`);
  let prices = new Map(instruments.map((s, i) => [s, new Decimal(50 + (i % 50) * 3)]));
  const books = Array.from({ length: N }, (_, a) => {
    const held = Array.from({ length: M }, (_, k) => instruments[(a * 7 + k * 3) % U]!).filter(
      (s, k, all) => all.indexOf(s) === k,
    );
    const value = held.reduce((acc, s) => acc.plus(prices.get(s)!.times(100)), new Decimal(0));
    // Leverage from 1.2x to 2x so the burst moves accounts across levels.
    const cash = value
      .times(new Decimal(20 + (a % 30)).dividedBy(100))
      .negated()
      .toFixed(2);
    return { accountId: `L${a}`, cash, held };
  });
  const t0 = Date.now();
  await batchPut(
    doc,
    tables.prices,
    instruments.map((s) => ({
      instrument: s,
      price: prices.get(s)!.toFixed(),
      priceTime: new Date(t0).toISOString(),
    })),
  );
  await batchPut(
    doc,
    tables.accounts,
    books.map((b) => ({ accountId: b.accountId, model: 'reg-t', cash: b.cash })),
  );
  await batchPut(
    doc,
    tables.positions,
    books.flatMap((b) =>
      b.held.map((s) => ({
        accountId: b.accountId,
        instrument: s,
        quantity: '100',
        avgCost: prices.get(s)!.toFixed(),
      })),
    ),
  );
  console.log(`seeded ${N} accounts × ${M} positions over ${U} instruments in ${Date.now() - t0} ms`);

  const tail = StreamTail.forEndpoint(client, db.endpoint, tables.prices);
  await tail.poll(); // the seed itself
  let currentTick = 0;
  const publishedAt: { event: DomainEvent; at: number; tick: number }[] = [];
  const publisher: Publisher = {
    publish: async (events) =>
      void events.forEach((event) => publishedAt.push({ event, at: Date.now(), tick: currentTick })),
  };
  const telemetry = new Tally();
  const deps: HandlerDeps = {
    store: repo,
    repo,
    bands: new BandRepository(client, tables.bands, 4),
    publisher,
    deadLetter: { send: async () => {} },
    workQueue: { enqueue: async () => {} },
    config: pipelineConfigSchema.parse({ staleAfterMs: 3_600_000 }),
    telemetry,
    env: { sweepSegments: 1, inlineFanoutLimit: 1_000_000 },
    log: { info: () => {}, warn: () => {}, error: (m, ...e) => console.error(m, ...e) },
    concurrency: 32,
  };
  const handler = makePriceStreamHandler(() => deps);
  // The first sweep evaluates every account once and writes its bands.
  const seeded = Date.now();
  await forEachLimit(books, 32, async (b) => {
    await evaluateAccount(b.accountId, deps);
  });
  console.log(`first sweep (bands for every account) in ${Date.now() - seeded} ms`);
  const evaluatedBefore = telemetry.counts.get('Evaluations') ?? 0;

  const tickWrittenAt: number[] = [];
  const started = Date.now();
  for (let tick = 1; tick <= TICKS; tick++) {
    // Every instrument falls 2–6% on each tick.
    prices = new Map(
      [...prices].map(([s, p], i) => [
        s,
        p.times(new Decimal(100 - 2 - ((i + tick) % 5)).dividedBy(100)).toDecimalPlaces(4),
      ]),
    );
    currentTick = tick;
    tickWrittenAt[tick] = Date.now();
    const at = new Date(t0 + tick * 1000).toISOString();
    await batchPut(
      doc,
      tables.prices,
      [...prices].map(([s, p]) => ({ instrument: s, price: p.toFixed(), priceTime: at })),
    );
    const records = await tail.poll();
    for (let i = 0; i < records.length; i += 100) await handler({ Records: records.slice(i, i + 100) });
  }
  const seconds = (Date.now() - started) / 1000;
  const evaluations = (telemetry.counts.get('Evaluations') ?? 0) - evaluatedBefore;
  const latencies = publishedAt
    .filter((p) => p.event.detailType === 'RiskLevelChanged' && p.tick > 0)
    .map((p) => p.at - tickWrittenAt[p.tick]!)
    .sort((a, b) => a - b);

  // No account may have been missed: brute force (a direct evaluation at the final prices, folded into the
  // stored risk state) must produce no level change and no margin-call event.
  let wrong = 0;
  const finalAt = new Date(t0 + (TICKS + 1) * 1000).toISOString();
  for (const b of books) {
    const state = await repo.getRiskState(b.accountId);
    const direct = evaluate({
      account: { id: b.accountId, model: 'reg-t', cash: b.cash },
      positions: b.held.map((s) => ({ instrument: s, quantity: '100', price: prices.get(s)!.toFixed() })),
    });
    const { events } = track(
      riskStateFromJson(state!.tracker),
      {
        at: finalAt,
        ratio: direct.marginRatio,
        equity: direct.equity,
        inMarginCall: direct.inMarginCall,
        callRatio: direct.callRatio,
      },
      DEFAULT_THRESHOLDS,
    );
    if (events.length > 0) wrong += 1;
  }
  console.log(
    `load: ${N} accounts × ${M} positions, ${TICKS} ticks of ${U} prices on DynamoDB Local (one process)`,
  );
  console.log(
    `  evaluations per tick: ${(evaluations / TICKS).toFixed(1)} of ${N} holders (${((100 * evaluations) / (TICKS * N)).toFixed(1)}%; brute force evaluates all ${N})`,
  );
  console.log(
    `  evaluations: ${evaluations} in ${seconds.toFixed(1)} s = ${(evaluations / seconds).toFixed(0)} evaluations/s; state writes ${telemetry.counts.get('StateWrites') ?? 0}`,
  );
  console.log(
    `  tick-to-event latency (RiskLevelChanged, ${latencies.length} events): p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms`,
  );
  console.log(`  accounts in the right final state (none missed): ${N - wrong}/${N}`);
  process.exitCode = wrong === 0 ? 0 : 1;
} finally {
  await db.stop();
}
