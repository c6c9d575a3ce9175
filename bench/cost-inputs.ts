/**
 * `npx tsx bench/cost-inputs.ts [--accounts N]`: the per-operation figures the cost model (scripts/cost-model.ts)
 * prices, metered from the real handlers — the price-stream and work-queue handlers, and through them
 * evaluateBatch / evaluateAccount, the band index and the sweep's segment loop — over the metered in-memory
 * adapters (bench/memory-store.ts, which count read and write units by AWS's rules: bench/capacity/meter.ts).
 * Writes bench/cost-inputs.json. Everything here is a count (units, items, bytes, messages), not a time, so
 * it does not depend on the machine; CPU per evaluation comes from bench/evaluator-cpu.json (npm run bench).
 *
 * Operations, each per unit of what the cost model counts:
 * - sweep evaluation, market moving: 16 15-minute sweeps of a random walk (4 h, one heartbeat period),
 *   each move first going through the price-stream handler as a tick (walkCrossing: the evaluations the
 *   ticks found), so a sweep finds only what ticks do not (a band's room halved, the heartbeat);
 * - sweep evaluation, market closed: 16 sweeps after the close, no price moving (the heartbeat's writes);
 * (in the order: first sight, moving sweeps to 14:00, ticks, crossing, trades, re-checks, the close).
 * - first sight: an account's first evaluation (the first sweep after a deploy);
 * - tick: one conflated tick of one instrument (±0.05%) through the price-stream handler: its band queries
 *   (and the few evaluations such small moves cause);
 * - crossing: an evaluation a tick's band query found (every instrument −3% in one tick);
 * - trade: a fill changes one position and the cash — two stream records, two evaluations;
 * - re-check: an evaluation with no price cache (an escalation step's): every price read, strongly
 *   consistent;
 * - coalesced: an unbanded account's evaluation, one account per message through the work-queue handler.
 * Band writes are counted in items (puts, deletes, the summary with its size), not in write units, so the
 * cost model applies the write units per item itself (1, or 2 inside a transaction: an explicit input).
 */
import type { DynamoDBRecord, SQSRecord } from 'aws-lambda';
import { marshall } from '@aws-sdk/util-dynamodb';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makePriceStreamHandler } from '../functions/price-stream/handler.ts';
import { makeWorkQueueHandler } from '../functions/work-queue/handler.ts';
import { evaluateAccount } from '../functions/lib/evaluate-account.ts';
import type { HandlerDeps } from '../functions/lib/runtime.ts';
import { coalesceId, type WorkMessage } from '../functions/lib/queues.ts';
import { Tally } from '../functions/lib/telemetry.ts';
import { DEFAULT_PIPELINE_CONFIG } from '../shared/pipeline/config.ts';
import type { DomainEvent } from '../shared/events/schemas.ts';
import { Meter, itemBytes, type Metered } from './capacity/meter.ts';
import { MemoryBands, MemoryStore } from './memory-store.ts';
import { population } from './population.ts';
import { prng } from './prng.ts';

/** The deployment's defaults (infra/config.ts): bands' sub-keys per bucket, the tables the index is
 * striped over, fan-outs evaluated in place. */
const BAND_SHARDS = 8;
const BAND_TABLES = 8;
const INLINE_FANOUT_LIMIT = 200;
const T0 = Date.parse('2026-01-05T15:00:00Z'); // a Monday, 10:00 in New York
/** The feed names its venue's session, so closing prices do not age overnight (docs/risk.md). */
const SESSION = 'us-equity' as const;
const iso = (ms: number) => new Date(ms).toISOString();

/** What one operation asked of AWS, per unit of the operation. */
export interface OperationCost {
  /** How many of the operation were metered (the divisor). */
  count: number;
  /** Read units per table (or table/index). */
  readUnits: Record<string, number>;
  /** Write units per table or index, band items excluded (see bandItems). */
  writeUnits: Record<string, number>;
  /** DynamoDB requests (GetItem, Query, BatchGetItem, a transaction, …). */
  requests: number;
  evaluations: number;
  stateWrites: number;
  /** Band rewrites (a summary written), and the items each wrote: puts + deletes. */
  bandWrites: number;
  bandItems: number;
  events: number;
  /** The price stream's band-index queries (made once per tick whatever the population) and their read units. */
  bandQueries: number;
  bandQueryReadUnits: number;
  /** Work messages enqueued: to the standard queue, to the coalescing FIFO queue; SendMessageBatch calls. */
  workMessages: number;
  coalescedMessages: number;
  sendBatches: number;
}

export interface CostInputs {
  about: string;
  command: string;
  measured: { accounts: number; bandShards: number; bandTables: number; inlineFanoutLimit: number };
  operations: Record<
    | 'sweepMoving'
    | 'walkCrossing'
    | 'sweepClosed'
    | 'firstSight'
    | 'crossing'
    | 'tick'
    | 'trade'
    | 'recheck'
    | 'coalesced',
    OperationCost
  >;
  /** Band crossings per account per hour under the 15-minute random walk (walkCrossing's evaluations). */
  walkCrossingsPerAccountHour: number;
  timings: { note: string; priceStreamCpuMsPerRecord: number };
  /** Mean stored sizes, bytes (DynamoDB's item size, approximately: names plus values). */
  sizes: {
    account: number;
    positionsPerAccount: number;
    position: number;
    riskState: number;
    history: number;
    bandSummary: number;
    bandItem: number;
    bandItemsPerAccount: number;
    price: number;
  };
}

const historyBytes: number[] = [];

interface World {
  store: MemoryStore;
  bands: MemoryBands;
  meter: Meter;
  deps: HandlerDeps;
  clock: { now: number };
  events: DomainEvent[];
  queue: WorkMessage[];
  sent: { plain: number; coalesced: number; batches: number };
  prices: Map<string, number>;
}

function world(accounts: number): World {
  const meter = new Meter();
  const store = new MemoryStore(meter);
  const bands = new MemoryBands(BAND_SHARDS, meter, BAND_TABLES);
  const items = population({ accounts });
  const save = store.saveRiskState.bind(store);
  store.saveRiskState = async (state, expected, history) => {
    if (history) historyBytes.push(itemBytes(history));
    return save(state, expected, history);
  };
  meter.on = false;
  for (const a of items.accounts) store.accounts.set(a.accountId, a);
  for (const [id, ps] of items.positions) store.positions.set(id, ps);
  const clock = { now: T0 };
  const prices = new Map([...items.prices].map(([i, p]) => [i, Number(p)])); // a walk of cents, not money
  for (const [instrument, p] of prices)
    store.prices.set(instrument, {
      instrument,
      price: p.toFixed(2),
      priceTime: iso(clock.now),
      session: SESSION,
    });
  meter.on = true;
  const events: DomainEvent[] = [];
  const queue: WorkMessage[] = [];
  const sent = { plain: 0, coalesced: 0, batches: 0 };
  const seen = new Set<string>();
  const deps = {
    store,
    repo: store,
    bands,
    publisher: { publish: async (batch: readonly DomainEvent[]) => void events.push(...batch) },
    deadLetter: { send: async () => {} },
    workQueue: {
      enqueue: async (messages: readonly WorkMessage[]) => {
        // The coalescing queue is FIFO, de-duplicated per account and second (coalesceId): a message
        // sent again within the same second is accepted (and billed) but not delivered.
        for (const m of messages) {
          if (m.kind === 'accounts' && m.coalesce) {
            const id = coalesceId(m.accountIds[0]!, clock.now);
            if (seen.has(id)) continue;
            seen.add(id);
          }
          queue.push(m);
        }
        const coalesced = messages.filter((m) => m.kind === 'accounts' && m.coalesce).length;
        sent.coalesced += coalesced;
        sent.plain += messages.length - coalesced;
        sent.batches += Math.ceil(coalesced / 10) + Math.ceil((messages.length - coalesced) / 10);
      },
    },
    config: DEFAULT_PIPELINE_CONFIG,
    telemetry: new Tally(),
    env: { sweepSegments: 1, inlineFanoutLimit: INLINE_FANOUT_LIMIT },
    log: { info: () => {}, warn: () => {}, error: () => {} },
    concurrency: 16,
    now: () => new Date(clock.now),
  } as unknown as HandlerDeps;
  return { store, bands, meter, deps, clock, events, queue, sent, prices };
}

/** Moves every price (or the ones named) by a factor and stores it; returns the stream records. */
function move(w: World, factor: (instrument: string) => number, only?: readonly string[]): DynamoDBRecord[] {
  const records: DynamoDBRecord[] = [];
  for (const instrument of only ?? [...w.prices.keys()]) {
    const was = w.prices.get(instrument)!;
    const next = Math.max(0.01, Math.round(was * factor(instrument) * 100) / 100);
    w.prices.set(instrument, next);
    const item = { instrument, price: next.toFixed(2), priceTime: iso(w.clock.now), session: SESSION };
    w.store.prices.set(instrument, item);
    records.push({
      eventName: 'MODIFY',
      dynamodb: {
        SequenceNumber: String(w.clock.now) + instrument,
        OldImage: marshall({
          instrument,
          price: was.toFixed(2),
          priceTime: iso(w.clock.now - 1000),
        }) as never,
        NewImage: marshall(item) as never,
      },
    } as DynamoDBRecord);
  }
  return records;
}

async function drain(w: World, messages: readonly unknown[]): Promise<void> {
  const worker = makeWorkQueueHandler(() => w.deps);
  for (let i = 0; i < messages.length; i += 10) {
    const Records = messages
      .slice(i, i + 10)
      .map((m, k) => ({ messageId: `m${i + k}`, body: JSON.stringify(m) }) as SQSRecord);
    const out = await worker({ Records } as never);
    if (out.batchItemFailures.length > 0) throw new Error('cost inputs: a work message failed');
  }
}

const sweep = (w: World) =>
  drain(w, [{ kind: 'segment', segment: 0, totalSegments: 1, sweepId: `s${w.clock.now}` }]);

/** What the meter, the store and the queues saw while `body` ran, in totals. */
interface Raw {
  evaluations: number;
  readUnits: Record<string, number>;
  writeUnits: Record<string, number>;
  requests: number;
  bandQueries: number;
  bandQueryReadUnits: number;
  stateWrites: number;
  bandWrites: number;
  bandItems: number;
  events: number;
  workMessages: number;
  coalescedMessages: number;
  sendBatches: number;
}

async function record(w: World, body: () => Promise<void>): Promise<Raw> {
  w.meter.take();
  const before = {
    evaluations: w.store.evaluations,
    writes: w.store.writes,
    bandWrites: w.bands.writes,
    bandItems: w.bands.rowWrites,
    events: w.events.length,
    sent: { ...w.sent },
  };
  await body();
  const raw: Raw = {
    evaluations: w.store.evaluations - before.evaluations,
    readUnits: {},
    writeUnits: {},
    requests: 0,
    bandQueries: 0,
    bandQueryReadUnits: 0,
    stateWrites: w.store.writes - before.writes,
    bandWrites: w.bands.writes - before.bandWrites,
    bandItems: w.bands.rowWrites - before.bandItems,
    events: w.events.length - before.events,
    workMessages: w.sent.plain - before.sent.plain,
    coalescedMessages: w.sent.coalesced - before.sent.coalesced,
    sendBatches: w.sent.batches - before.sent.batches,
  };
  for (const c of w.meter.take() as Metered[]) {
    if (c.service !== 'dynamodb') continue;
    raw.requests += c.requests;
    if (c.perTick) {
      raw.bandQueries += c.requests;
      raw.bandQueryReadUnits += c.read;
    }
    if (c.read > 0) raw.readUnits[c.resource] = (raw.readUnits[c.resource] ?? 0) + c.read;
    // Band items are counted as items (below), priced by the cost model's write units per item.
    if (c.write > 0 && !c.resource.startsWith('Bands'))
      raw.writeUnits[c.resource] = (raw.writeUnits[c.resource] ?? 0) + c.write;
  }
  return raw;
}

function add(a: Raw, b: Raw): Raw {
  const merge = (x: Record<string, number>, y: Record<string, number>) => {
    const out = { ...x };
    for (const [k, v] of Object.entries(y)) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  const out = {
    ...a,
    readUnits: merge(a.readUnits, b.readUnits),
    writeUnits: merge(a.writeUnits, b.writeUnits),
  };
  for (const k of Object.keys(a) as (keyof Raw)[])
    if (typeof a[k] === 'number') (out[k] as number) = (a[k] as number) + (b[k] as number);
  return out;
}

/** Totals divided by the operation's count (by default, its evaluations). */
function perUnit(raw: Raw, count = raw.evaluations): OperationCost {
  const q = (x: number) => Math.round((x / count) * 1e4) / 1e4;
  const each = (r: Record<string, number>) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, q(v)]));
  return {
    count,
    readUnits: each(raw.readUnits),
    writeUnits: each(raw.writeUnits),
    requests: q(raw.requests),
    evaluations: q(raw.evaluations),
    stateWrites: q(raw.stateWrites),
    bandWrites: q(raw.bandWrites),
    bandItems: q(raw.bandItems),
    events: q(raw.events),
    bandQueries: q(raw.bandQueries),
    bandQueryReadUnits: q(raw.bandQueryReadUnits),
    workMessages: q(raw.workMessages),
    coalescedMessages: q(raw.coalescedMessages),
    sendBatches: q(raw.sendBatches),
  };
}

async function operation(w: World, body: () => Promise<void>, count?: () => number) {
  const raw = await record(w, body);
  return perUnit(raw, count?.());
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

export async function meterCostInputs(accounts = 300): Promise<CostInputs> {
  const w = world(accounts);
  const random = prng(20200313);
  const step = 0.004 * Math.sqrt(15); // a random walk over 15 minutes

  // Monday 10:00 in New York: the first sweep, then four hours of a moving market: every 15 minutes each
  // price moves (a random walk) and the move goes through the price-stream handler as a tick, so the
  // crossed accounts are evaluated there (walkCrossing), then the sweep runs (sweepMoving).
  const stream = makePriceStreamHandler(() => w.deps);
  let streamCpuMs = 0;
  const inBatches = async (records: DynamoDBRecord[]) => {
    const cpu = process.cpuUsage();
    for (let i = 0; i < records.length; i += 100)
      await stream({ Records: records.slice(i, i + 100) } as never);
    const used = process.cpuUsage(cpu);
    streamCpuMs += (used.user + used.system) / 1000;
    await drain(w, w.queue.splice(0));
  };
  const firstSight = await operation(w, () => sweep(w));
  let walkTicks: Raw | undefined;
  let walkSweeps: Raw | undefined;
  for (let s = 0; s < 16; s++) {
    w.clock.now += 15 * 60_000;
    const ticked = await record(w, () => inBatches(move(w, () => 1 + (random() - 0.5) * step)));
    const swept = await record(w, () => sweep(w));
    walkTicks = walkTicks ? add(walkTicks, ticked) : ticked;
    walkSweeps = walkSweeps ? add(walkSweeps, swept) : swept;
  }
  const sweepMoving = perUnit(walkSweeps!);
  const walkCrossing = perUnit(walkTicks!);
  const walkCrossingsPerAccountHour = walkTicks!.evaluations / accounts / 4;
  // 14:00, just after every account's heartbeat: every instrument ticks ±0.05% once a second for five
  // seconds.
  streamCpuMs = 0;
  let ticks = 0;
  const tick = await operation(
    w,
    async () => {
      for (let s = 0; s < 5; s++) {
        w.clock.now += 1000;
        const records = move(w, () => 1 + (random() - 0.5) * 0.001);
        ticks += records.length;
        await inBatches(records);
      }
    },
    () => ticks,
  );
  const priceStreamCpuMsPerRecord = streamCpuMs / ticks;
  // A bad minute: every instrument 3% lower in one tick; the crossed accounts are evaluated.
  const crossing = await operation(w, async () => {
    w.clock.now += 1000;
    await inBatches(move(w, () => 0.97));
  });
  // A fill: one position grows by a tenth, paid from cash; the positions and accounts streams each
  // evaluate the account (two records, usually in different batches).
  const traders = [...w.store.accounts.keys()].filter((_, i) => i % 3 === 0);
  const trade = await operation(
    w,
    async () => {
      w.clock.now += 1000;
      for (const id of traders) {
        const positions = w.store.positions.get(id)!;
        const p = positions[0]!;
        const more = Math.max(1, Math.round(Math.abs(Number(p.quantity)) / 10));
        const cost = more * w.prices.get(p.instrument)!;
        w.store.positions.set(id, [
          { ...p, quantity: String(Number(p.quantity) + Math.sign(Number(p.quantity)) * more) },
          ...positions.slice(1),
        ]);
        await drain(w, [{ kind: 'accounts', accountIds: [id], reason: 'positions' }]);
        const account = w.store.accounts.get(id)!;
        w.store.accounts.set(id, { ...account, cash: (Number(account.cash) - cost).toFixed(2) });
        await drain(w, [{ kind: 'accounts', accountIds: [id], reason: 'accounts' }]);
      }
    },
    () => traders.length,
  );
  // Re-checks a minute later, the prices unchanged: what an escalation step's evaluation reads and writes.
  w.clock.now += 60_000;
  move(w, () => 1);
  const checked = [...w.store.accounts.keys()].filter((_, i) => i % 3 === 1);
  const recheck = await operation(w, async () => {
    for (const id of checked) await evaluateAccount(id, w.deps);
  });
  // An unbanded account's coalesced evaluation: one account per message through the work-queue handler
  // (its own price cache), the prices unchanged since.
  w.clock.now += 1000;
  move(w, () => 1);
  const coalescedIds = [...w.store.accounts.keys()].filter((_, i) => i % 3 === 2);
  const coalesced = await operation(w, () =>
    drain(
      w,
      coalescedIds.map((id) => ({ kind: 'accounts', accountIds: [id], reason: 'unbanded', coalesce: true })),
    ),
  );

  // The close (15:59), then four hours of sweeps with the market closed: closing prices stay fresh
  // overnight (market-time staleness), so only the heartbeat writes.
  w.clock.now = Date.parse('2026-01-05T20:59:00Z');
  move(w, () => 1);
  w.clock.now = Date.parse('2026-01-05T21:00:00Z');
  // Measured at the open market's heartbeat (4 h), as the cost model expects: it scales these writes to
  // closedHeartbeatMs itself (the deployed default would write none in these 4 hours).
  const deployed = w.deps.config;
  w.deps.config = { ...deployed, closedHeartbeatMs: deployed.heartbeatMs };
  const sweepClosed = await operation(w, async () => {
    for (let s = 0; s < 16; s++) {
      w.clock.now += 15 * 60_000;
      await sweep(w);
    }
  });
  w.deps.config = deployed;

  const states = [...w.store.states.values()];
  const positions = [...w.store.positions.values()];
  const summaries = [...w.bands.summaries.values()];
  const bandItems = [...w.bands.items].flatMap(([partition, sks]) =>
    [...sks].map((sk) => ({ partition, sk })),
  );
  return {
    about:
      'Per-operation DynamoDB units, band items, events and work messages of the real handlers over the metered in-memory adapters (bench/cost-inputs.ts). Counts, not times: machine-independent. Read by scripts/cost-model.ts.',
    command: 'npx tsx bench/cost-inputs.ts',
    measured: {
      accounts,
      bandShards: BAND_SHARDS,
      bandTables: BAND_TABLES,
      inlineFanoutLimit: INLINE_FANOUT_LIMIT,
    },
    operations: {
      sweepMoving,
      walkCrossing,
      sweepClosed,
      firstSight,
      crossing,
      tick,
      trade,
      recheck,
      coalesced,
    },
    walkCrossingsPerAccountHour: Math.round(walkCrossingsPerAccountHour * 1e4) / 1e4,
    timings: {
      note: 'machine-dependent (this run, tsx, not bundled): the price-stream handler CPU per tick record',
      priceStreamCpuMsPerRecord: Math.round(priceStreamCpuMsPerRecord * 1000) / 1000,
    },
    sizes: {
      account: Math.round(mean([...w.store.accounts.values()].map(itemBytes))),
      positionsPerAccount: mean(positions.map((p) => p.length)),
      position: Math.round(mean(positions.flat().map(itemBytes))),
      riskState: Math.round(mean(states.map((s) => s.length))),
      history: Math.round(mean(historyBytes)),
      bandSummary: Math.round(mean(summaries.map(itemBytes))),
      bandItem: Math.round(mean(bandItems.map(itemBytes))),
      bandItemsPerAccount: Math.round((bandItems.length / accounts) * 100) / 100,
      price: Math.round(mean([...w.store.prices.values()].map(itemBytes))),
    },
  };
}

if (process.argv[1]?.endsWith('cost-inputs.ts')) {
  const i = process.argv.indexOf('--accounts');
  const inputs = await meterCostInputs(i > 0 ? Number(process.argv[i + 1]) : undefined);
  const path = join(process.cwd(), 'bench', 'cost-inputs.json');
  writeFileSync(path, `${JSON.stringify(inputs, null, 2)}\n`);
  console.log(JSON.stringify(inputs.operations, null, 2));
  console.log(JSON.stringify(inputs.sizes, null, 2));
  console.log(`written: ${path}`);
}
