/**
 * The capacity model (`npm run capacity`): the real price-stream and work-queue handlers (and through them
 * the evaluator, the band index and the sweep's segment loop) run over metered in-memory adapters on a
 * sample of accounts, each standing for `accounts / sample` accounts of the same shape; the metered demand
 * is then scheduled against AWS's published limits (limits.ts) to give, per scenario, the time to each
 * milestone and the binding resource.
 *
 * Scaling a sample: a request on an account's own key (its state, positions, summary) scales in count,
 * not per key; a request on a shared key (an instrument's price item, a price bucket of the band index)
 * scales per key too — the accounts a sample account stands for are taken to have its very bounds, the
 * worst case for a bucket, spread over the bucket's sub-keys by their shard.
 */
import { prng } from '../prng.ts';
import type { DynamoDBRecord, SQSRecord } from 'aws-lambda';
import { marshall } from '@aws-sdk/util-dynamodb';
import { makePriceStreamHandler } from '../../functions/price-stream/handler.ts';
import { makeWorkQueueHandler } from '../../functions/work-queue/handler.ts';
import type { HandlerDeps } from '../../functions/lib/runtime.ts';
import { ACCOUNTS_PER_MESSAGE, type WorkMessage } from '../../functions/lib/queues.ts';
import { ESCALATION_START_LIMITS } from '../../functions/escalation-starter/limits.ts';
import { Tally } from '../../functions/lib/telemetry.ts';
import { Decimal } from '../../shared/decimal.ts';
import { DEFAULT_PIPELINE_CONFIG } from '../../shared/pipeline/config.ts';
import type { DomainEvent } from '../../shared/events/schemas.ts';
import { MemoryBands, MemoryStore } from '../memory-store.ts';
import { LIMITS } from './limits.ts';
import { Meter, readUnits, type Metered } from './meter.ts';

export interface CapacityOptions {
  accounts: number;
  sample: number;
  /** Instruments ticking in a trading second. */
  instruments: number;
  /** Sub-keys per price bucket (the `bandShards` setting). */
  bandShards: number;
  /** Tables the band index is striped over (the `bandTables` setting; each has its own quota). */
  bandTables: number;
  /** Sweep segments (the `sweepSegments` setting). */
  sweepSegments: number;
  /** Concurrency reserved for the work-queue function, and its minimum pollers (provisioned mode). */
  workConcurrency: number;
  seed: number;
}

export const DEFAULT_CAPACITY: CapacityOptions = {
  accounts: 1_000_000,
  sample: 5_000,
  instruments: 2_000,
  bandShards: 8,
  bandTables: 8,
  sweepSegments: 64,
  workConcurrency: 800,
  seed: 20200312,
};

const HEADS = ['SPY', 'QQQ', 'AAPL'] as const;
const HEAD_SHARE = { SPY: 0.85, QQQ: 0.6, AAPL: 0.5 } as const;
const T0 = Date.parse('2020-03-12T14:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** Published closes (test/fixtures/SPY_2020-02_2020-04_daily.csv): 2020-03-11 → 2020-03-12, −9.57%. */
const SPY_BEFORE = '249.4649';
const SPY_CRASH = '225.5969';

interface Population {
  store: MemoryStore;
  bands: MemoryBands;
  meter: Meter;
  events: DomainEvent[];
  queue: WorkMessage[];
  deps: HandlerDeps;
  instruments: string[];
  prices: Map<string, string>;
}

/**
 * A broker's book: SPY, QQQ and AAPL held by most accounts, a Zipf tail over `instruments`; ~20
 * positions; Reg T, gross and tiered; ratios spread so most are comfortable and a few percent at risk.
 */
function population(o: CapacityOptions): Population {
  const random = prng(o.seed);
  const meter = new Meter();
  const store = new MemoryStore(meter);
  const bands = new MemoryBands(o.bandShards, meter, o.bandTables);
  const events: DomainEvent[] = [];
  const queue: WorkMessage[] = [];
  const instruments = [...HEADS, ...Array.from({ length: o.instruments - HEADS.length }, (_, i) => `T${i}`)];
  const prices = new Map<string, string>();
  instruments.forEach((i, n) => prices.set(i, i === 'SPY' ? SPY_BEFORE : (20 + ((n * 37) % 480)).toFixed(2)));
  for (const [instrument, price] of prices)
    store.prices.set(instrument, { instrument, price, priceTime: iso(T0) });
  // Zipf weights for the tail: instrument k held with weight 1/k.
  const tail = instruments.slice(HEADS.length);
  const weights = tail.map((_, k) => 1 / (k + 1));
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const pickTail = () => {
    let u = random() * totalWeight;
    for (let k = 0; k < tail.length; k++) if ((u -= weights[k]!) <= 0) return tail[k]!;
    return tail[tail.length - 1]!;
  };
  for (let n = 0; n < o.sample; n++) {
    const id = `ACC${String(n).padStart(7, '0')}`;
    const held = new Set<string>(HEADS.filter((h) => random() < HEAD_SHARE[h]));
    while (held.size < 20) held.add(pickTail());
    const model = random() < 0.8 ? 'reg-t' : random() < 0.5 ? 'gross' : 'tiered';
    const positions = [...held].map((instrument) => ({
      accountId: id,
      instrument,
      quantity: String(Math.max(1, Math.round(10 ** (1 + random() * 2)))),
      avgCost: prices.get(instrument)!,
      ...(model === 'tiered' ? { leverage: '5' } : {}),
    }));
    const value = positions.reduce(
      (v, p) => v.plus(new Decimal(p.quantity).times(prices.get(p.instrument)!)),
      new Decimal(0),
    );
    // Loan to value: most accounts borrow little, a tail close to the limits (a ratio near 1.2–2).
    const u = random();
    const borrowed = u < 0.8 ? random() * 0.4 : u < 0.95 ? 0.5 + random() * 0.15 : 0.65 + random() * 0.1;
    const cash =
      model === 'tiered'
        ? value.times(0.2 + random() * 0.3).toDecimalPlaces(2)
        : value.times(-borrowed).toDecimalPlaces(2);
    store.accounts.set(id, { accountId: id, model, cash: cash.toFixed() } as never);
    store.positions.set(id, positions as never);
  }
  const deps = {
    store,
    repo: store,
    bands,
    publisher: {
      publish: async (batch: readonly DomainEvent[]) => {
        events.push(...batch);
        for (let i = 0; i < batch.length; i += LIMITS.eventBridge.entriesPerCall)
          meter.record({
            service: 'events',
            resource: 'bus',
            key: '',
            read: 0,
            write: 0,
            requests: Math.min(10, batch.length - i),
          });
      },
    },
    deadLetter: { send: async () => {} },
    workQueue: {
      enqueue: async (messages: readonly WorkMessage[]) => {
        queue.push(...messages);
        meter.record({
          service: 'sqs',
          resource: 'work',
          key: '',
          read: 0,
          write: 0,
          requests: Math.ceil(messages.length / 10),
        });
      },
    },
    config: DEFAULT_PIPELINE_CONFIG,
    telemetry: new Tally(),
    env: { sweepSegments: o.sweepSegments, inlineFanoutLimit: 0 },
    log: { info: () => {}, warn: () => {}, error: () => {} },
    concurrency: 16,
    now: () => new Date(clock.now),
  } as unknown as HandlerDeps;
  return { store, bands, meter, events, queue, deps, instruments, prices };
}

const clock = { now: T0 };

function priceRecord(instrument: string, from: string, to: string, at: number, seq: number): DynamoDBRecord {
  const item = (price: string, t: number) => marshall({ instrument, price, priceTime: iso(t) });
  return {
    eventName: 'MODIFY',
    dynamodb: {
      SequenceNumber: String(seq),
      OldImage: item(from, at - 1000) as never,
      NewImage: item(to, at) as never,
    },
  } as DynamoDBRecord;
}

/** Runs the real work-queue handler over messages; CPU time measured. */
async function drain(p: Population, messages: WorkMessage[]): Promise<number> {
  const worker = makeWorkQueueHandler(() => p.deps);
  const started = process.hrtime.bigint();
  for (let i = 0; i < messages.length; i += 10) {
    const Records = messages
      .slice(i, i + 10)
      .map((m, k) => ({ messageId: `m${i + k}`, body: JSON.stringify(m) }) as SQSRecord);
    const out = await worker({ Records } as never);
    if (out.batchItemFailures.length > 0) throw new Error('capacity model: a work message failed');
  }
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** What one phase of real handler runs asked of AWS, scaled to the population. */
interface Demand {
  evaluations: number;
  stateWrites: number;
  levelChanges: number;
  escalationStarts: number;
  cpuMsPerEvaluation: number;
  /** Units per resource (table, table/index), scaled. */
  resources: Map<string, { read: number; write: number; requests: number }>;
  /** The busiest shared key of each resource: its units, scaled, and the key. */
  hottest: { resource: string; key: string; read: number; write: number }[];
  /** The same demand without what comes after the band writes (the re-checks): the state phase's. */
  beforeBands?: Demand;
}

function demandOf(
  calls: readonly Metered[],
  weight: number,
  shards: number,
  extra: Omit<Demand, 'resources' | 'hottest'>,
): Demand {
  const resources = new Map<string, { read: number; write: number; requests: number }>();
  const shared = new Map<string, { resource: string; key: string; read: number; write: number }>();
  for (const raw of calls) {
    // A per-tick query is made once whatever the population; it returns `weight` times the rows.
    const c = raw.perTick
      ? { ...raw, read: readUnits(raw.perTick.bytes * weight) / weight, requests: raw.requests / weight }
      : raw;
    const id = `${c.service}:${c.resource}`;
    const r = resources.get(id) ?? { read: 0, write: 0, requests: 0 };
    r.read += c.read * weight;
    r.write += c.write * weight;
    r.requests += c.requests * weight;
    resources.set(id, r);
    if (c.service !== 'dynamodb' || c.key === '') continue;
    // Shared keys: an instrument's price item, the band index's bucket and unbanded partitions. A bucket's
    // sub-key is the account's shard, so the accounts a sample account stands for spread over all subs.
    const bucket = /^[lh]#/.test(c.key);
    const isShared = c.resource === 'Prices' || bucket || c.key.startsWith('x#');
    if (!isShared) continue;
    const key = bucket ? c.key.replace(/#\d+$/, '#*') : c.key;
    const scale = bucket && !raw.perTick ? weight / shards : weight;
    const s = shared.get(`${c.resource}:${key}`) ?? { resource: c.resource, key, read: 0, write: 0 };
    s.read += c.read * scale;
    s.write += c.write * scale;
    shared.set(`${c.resource}:${key}`, s);
  }
  const hottest = [...shared.values()]
    .sort((a, b) => Math.max(b.write / 1000, b.read / 3000) - Math.max(a.write / 1000, a.read / 3000))
    .slice(0, 5);
  return { ...extra, resources, hottest };
}

const levelChanges = (events: readonly DomainEvent[]) =>
  events.filter((e) => e.detailType === 'RiskLevelChanged');

/** Phase: run the real handlers, take the meter. */
async function phase(
  p: Population,
  weight: number,
  o: CapacityOptions,
  run: () => Promise<number>,
): Promise<Demand> {
  p.meter.take();
  const evalsBefore = p.store.evaluations;
  const writesBefore = p.store.writes;
  const eventsBefore = p.events.length;
  const ms = await run();
  const evaluations = p.store.evaluations - evalsBefore;
  const changed = levelChanges(p.events.slice(eventsBefore));
  const starts = changed.filter((e) => (e.detail as { to?: string }).to !== 'SAFE').length;
  const calls = p.meter.take();
  const extra = {
    evaluations: evaluations * weight,
    stateWrites: (p.store.writes - writesBefore) * weight,
    levelChanges: changed.length * weight,
    escalationStarts: starts * weight,
    cpuMsPerEvaluation: evaluations > 0 ? ms / evaluations : 0,
  };
  return {
    ...demandOf(calls, weight, o.bandShards, extra),
    beforeBands: demandOf(
      calls.filter((c) => !c.afterBands),
      weight,
      o.bandShards,
      extra,
    ),
  };
}

export interface Binding {
  resource: string;
  seconds: number;
}

/** Seconds each resource needs for a demand, the largest first (the binding one, then the next). */
function schedule(d: Demand, o: CapacityOptions, cpuMs: number): Binding[] {
  const out: Binding[] = [];
  const resource = (name: string) => d.resources.get(name) ?? { read: 0, write: 0, requests: 0 };
  // The band index's stripes: the accounts a sample account stands for have every shard, so their
  // demand spreads evenly over the stripes (the sample's own shards would put it on one).
  const bands = { read: 0, write: 0 };
  for (const [name, r] of d.resources) {
    if (!name.startsWith('dynamodb:')) continue;
    if (/^dynamodb:Bands\d*$/.test(name)) {
      bands.read += r.read;
      bands.write += r.write;
      continue;
    }
    out.push({ resource: `${name} table writes`, seconds: r.write / LIMITS.dynamodb.tableWriteUnitsPerS });
    out.push({ resource: `${name} table reads`, seconds: r.read / LIMITS.dynamodb.tableReadUnitsPerS });
  }
  const each = o.bandTables > 1 ? ` (each of ${o.bandTables} stripes)` : '';
  out.push({
    resource: `dynamodb:Bands table writes${each}`,
    seconds: bands.write / o.bandTables / LIMITS.dynamodb.tableWriteUnitsPerS,
  });
  out.push({
    resource: `dynamodb:Bands table reads${each}`,
    seconds: bands.read / o.bandTables / LIMITS.dynamodb.tableReadUnitsPerS,
  });
  for (const h of d.hottest) {
    out.push({
      resource: `key ${h.resource}:${h.key} writes`,
      seconds: h.write / LIMITS.dynamodb.partitionWriteUnitsPerS,
    });
    out.push({
      resource: `key ${h.resource}:${h.key} reads`,
      seconds: h.read / LIMITS.dynamodb.partitionReadUnitsPerS,
    });
  }
  // Lambda: the work-queue function at its reserved concurrency, reached at the scaling rate from its
  // provisioned pollers; each execution evaluates 16 accounts at once, bound by its one vCPU.
  const perExecution = Math.min(1000 / cpuMs, (16 * 1000) / (cpuMs + 4 * LIMITS.dynamodb.requestLatencyMs));
  const warm = Math.min(o.workConcurrency, LIMITS.lambda.sqsProvisionedMinimumPollersMax);
  const rampS = Math.max(0, (o.workConcurrency - warm) / LIMITS.lambda.scaleUpPerS);
  const work = d.evaluations / perExecution; // execution-seconds
  const rampWork = ((warm + o.workConcurrency) / 2) * rampS;
  const lambdaS =
    work <= rampWork
      ? solveRamp(work, warm, LIMITS.lambda.scaleUpPerS)
      : rampS + (work - rampWork) / o.workConcurrency;
  out.push({
    resource: `Lambda work-queue (${o.workConcurrency} concurrent, ${perExecution.toFixed(0)} evaluations/s each)`,
    seconds: lambdaS,
  });
  out.push({
    resource: 'EventBridge PutEvents entries',
    seconds: resource('events:bus').requests / LIMITS.eventBridge.putEventsEntriesPerS,
  });
  return out.sort((a, b) => b.seconds - a.seconds);
}

/** Time to do `work` execution-seconds with concurrency warm + rate·t. */
function solveRamp(work: number, warm: number, rate: number): number {
  // warm·t + rate·t²/2 = work
  return (-warm + Math.sqrt(warm * warm + 2 * rate * work)) / rate;
}

/** Escalation starts through the SQS buffer at StartExecution's bucket and refill: never dropped. */
function escalationSeconds(starts: number): number {
  const { startExecutionBucket, startExecutionRefillPerS } = LIMITS.stepFunctions;
  // The starter's own pace: invocations × calls in flight per StartExecution round trip (50 ms).
  const { maxConcurrency, parallelism } = ESCALATION_START_LIMITS;
  const pace = (maxConcurrency * parallelism * 1000) / 50;
  const rate = Math.min(startExecutionRefillPerS, pace);
  return starts <= startExecutionBucket
    ? starts / pace
    : startExecutionBucket / pace + (starts - startExecutionBucket) / rate;
}

export interface ScenarioReport {
  name: string;
  evaluations: number;
  stateWrites: number;
  levelChanges: number;
  escalationStarts: number;
  lastRiskLevelChangedS: number;
  /** What the state phase alone needs (no band writes, no re-checks), and what binds it; work messages. */
  statePhaseS: number;
  statePhaseBinding: string;
  messages: number;
  lastEscalationStartedS: number;
  droppedEscalations: number;
  lastBandRowS: number;
  rebandedS: number;
  duplicateEvaluationShare: number;
  priceLagP99S?: number;
  binding: string;
  next: string;
  marginToNextS: number;
  bindings: Binding[];
  hottestKeys: { key: string; writeUnits: number; readUnits: number }[];
  cpuMsPerEvaluation: number;
}

function report(
  name: string,
  d: Demand,
  o: CapacityOptions,
  extra: { lagS: number; duplicates: number; cpuMs: number },
): ScenarioReport {
  const bindings = schedule(d, o, extra.cpuMs);
  const [first, second] = bindings;
  const drainS = extra.lagS + (first?.seconds ?? 0);
  // A message writes its accounts' states and publishes their events before it writes any band
  // (evaluate-batch.ts). The state phase's own demand leaves out the band writes and what comes after them
  // (the re-checks' strongly consistent price reads, metered apart: Metered.afterBands). When every
  // message of the wave is in flight at once, the level changes wait only for that; messages beyond the
  // concurrency wait for a slot, so the last wave starts once the earlier waves' whole work is done (at
  // the binding rate) and then needs only its own state phase.
  const messages = Math.ceil(d.evaluations / ACCOUNTS_PER_MESSAGE);
  const stateBinding = schedule(d.beforeBands ?? d, o, extra.cpuMs).filter(
    (b) => !/Bands\S*( table)? writes/.test(b.resource),
  )[0];
  const statePhase = stateBinding?.seconds ?? 0;
  const waves = Math.max(1, Math.ceil(messages / o.workConcurrency));
  const lastWave = messages > 0 ? (messages - (waves - 1) * o.workConcurrency) / messages : 1;
  const levelS = extra.lagS + (first?.seconds ?? 0) * (1 - lastWave) + statePhase * lastWave;
  return {
    name,
    evaluations: Math.round(d.evaluations),
    stateWrites: Math.round(d.stateWrites),
    levelChanges: Math.round(d.levelChanges),
    escalationStarts: Math.round(d.escalationStarts),
    lastRiskLevelChangedS: round(levelS),
    statePhaseS: round(statePhase),
    statePhaseBinding: stateBinding?.resource ?? 'none',
    messages,
    lastEscalationStartedS: round(levelS + escalationSeconds(d.escalationStarts)),
    droppedEscalations: 0,
    lastBandRowS: round(drainS),
    rebandedS: round(drainS),
    duplicateEvaluationShare: round(extra.duplicates, 4),
    binding: first?.resource ?? 'none',
    next: second?.resource ?? 'none',
    marginToNextS: round((first?.seconds ?? 0) - (second?.seconds ?? 0)),
    bindings: bindings.slice(0, 6).map((b) => ({ ...b, seconds: round(b.seconds) })),
    hottestKeys: d.hottest.map((h) => ({
      key: `${h.resource}:${h.key}`,
      writeUnits: Math.round(h.write),
      readUnits: Math.round(h.read),
    })),
    cpuMsPerEvaluation: round(extra.cpuMs, 3),
  };
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

export async function runCapacity(options: Partial<CapacityOptions> = {}): Promise<ScenarioReport[]> {
  const o = { ...DEFAULT_CAPACITY, ...options };
  const weight = o.accounts / o.sample;
  const p = population(o);
  const reports: ScenarioReport[] = [];
  clock.now = T0;

  // (d) The first full sweep after a deploy: every account evaluated, every state and band written.
  const sweep = await phase(p, weight, o, async () => {
    // One segment in the sample, so a page holds as many accounts as the real scan's (100): per-message
    // costs (a page's price reads) then scale with the population like the real segments' do.
    return drain(p, [{ kind: 'segment' as const, segment: 0, totalSegments: 1, sweepId: 'capacity' }]);
  });
  const cpuMs = sweep.cpuMsPerEvaluation;
  // The sweep runs one message per segment: its parallelism is the segment count.
  const sweepReport = report(
    'first-sweep',
    sweep,
    { ...o, workConcurrency: Math.min(o.workConcurrency, o.sweepSegments) },
    { lagS: 0, duplicates: 0, cpuMs },
  );
  reports.push(sweepReport);

  // (a) The crash tick: SPY from the 2020-03-11 close to the 2020-03-12 close in one tick, then it keeps
  // ticking (a further 0.05% a second) while the wave drains; later ticks re-find accounts not yet
  // re-banded. Each second the workers take what the schedule allows.
  const stream = makePriceStreamHandler(() => p.deps);
  clock.now = T0 + 1000;
  let spy = SPY_BEFORE;
  let seq = 1;
  const tick = async (to: string) => {
    const record = priceRecord('SPY', spy, to, clock.now, seq++);
    p.store.prices.set('SPY', { instrument: 'SPY', price: to, priceTime: iso(clock.now) });
    spy = to;
    await stream({ Records: [record] } as never);
  };
  let waveEvaluations = 0;
  let uniqueAccounts = new Set<string>();
  const crash = await phase(p, weight, o, async () => {
    let ms = 0;
    await tick(SPY_CRASH);
    const first = p.queue.splice(0);
    first.forEach((m) => m.kind === 'accounts' && m.accountIds.forEach((id) => uniqueAccounts.add(id)));
    // The wave drained at the goal's pace (30 s), SPY ticking every second meanwhile: later ticks re-find
    // the accounts not yet re-banded, which the queued evaluations then skip (their ticks are seen).
    const perTick = Math.max(1, Math.ceil(first.length / 30));
    let pending = first;
    while (pending.length > 0) {
      const now = pending.splice(0, perTick);
      const before = p.store.evaluations;
      ms += await drain(p, now);
      waveEvaluations += p.store.evaluations - before;
      clock.now += 1000;
      await tick(new Decimal(spy).times('0.9995').toDecimalPlaces(4).toFixed());
      const again = p.queue.splice(0);
      again.forEach((m) => m.kind === 'accounts' && m.accountIds.forEach((id) => uniqueAccounts.add(id)));
      pending = [...pending, ...again];
    }
    return ms;
  });
  const crashDuplicates =
    waveEvaluations > 0 ? Math.max(0, (waveEvaluations - uniqueAccounts.size) / waveEvaluations) : 0;
  reports.push(report('crash-tick', crash, o, { lagS: 0.25, duplicates: crashDuplicates, cpuMs }));

  // (b) A normal trading second: every instrument ticks once by up to ±0.05%.
  const random = prng(o.seed + 1);
  uniqueAccounts = new Set();
  const second = await phase(p, weight, o, async () => {
    clock.now += 1000;
    const records = p.instruments.map((instrument, n) => {
      const from = p.store.prices.get(instrument)!.price;
      const to = new Decimal(from)
        .times(1 + (random() - 0.5) * 0.001)
        .toDecimalPlaces(4)
        .toFixed();
      p.store.prices.set(instrument, { instrument, price: to, priceTime: iso(clock.now) });
      return priceRecord(instrument, from, to, clock.now, seq + n);
    });
    seq += records.length;
    const started = process.hrtime.bigint();
    for (let i = 0; i < records.length; i += 100)
      await stream({ Records: records.slice(i, i + 100) } as never);
    const streamMs = Number(process.hrtime.bigint() - started) / 1e6;
    tradingStreamMsPerRecord = streamMs / records.length;
    return drain(p, p.queue.splice(0));
  });
  // Stream lanes: one batch per shard times the parallelization factor; the Prices table's few thousand
  // small items sit in a handful of partitions (shards), taken as 4.
  const lanes = 4 * LIMITS.lambda.maxParallelizationFactor;
  const queriesPerTick = (second.resources.get('dynamodb:Bands')?.requests ?? 0) / weight / o.instruments;
  const serviceS =
    (tradingStreamMsPerRecord + Math.ceil(queriesPerTick / 16) * LIMITS.dynamodb.requestLatencyMs) / 1000;
  const utilisation = (o.instruments * serviceS) / lanes;
  const lagP99 =
    1 / LIMITS.lambda.streamPollsPerS +
    (serviceS * 100 * (utilisation < 1 ? 1 / (1 - utilisation) : Infinity)) / 100;
  reports.push({
    ...report('trading-second', second, o, { lagS: lagP99, duplicates: 0, cpuMs }),
    priceLagP99S: round(lagP99, 3),
  });

  // (c) The market open after a night of closing prices: market-hours staleness keeps every band in place
  // overnight, so the open is the gap's crossings, not a re-band of every account: every instrument opens
  // 1% lower at once (a bad but ordinary open).
  const open = await phase(p, weight, o, async () => {
    clock.now += 17.5 * 3600 * 1000;
    const records = p.instruments.map((instrument, n) => {
      const from = p.store.prices.get(instrument)!.price;
      const to = new Decimal(from).times('0.99').toDecimalPlaces(4).toFixed();
      p.store.prices.set(instrument, { instrument, price: to, priceTime: iso(clock.now) });
      return priceRecord(instrument, from, to, clock.now, seq + n);
    });
    seq += records.length;
    for (let i = 0; i < records.length; i += 100)
      await stream({ Records: records.slice(i, i + 100) } as never);
    return drain(p, p.queue.splice(0));
  });
  reports.push(report('market-open', open, o, { lagS: 0.25, duplicates: 0, cpuMs }));
  return reports;
}

let tradingStreamMsPerRecord = 0;
