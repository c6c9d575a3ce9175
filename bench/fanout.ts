/**
 * Fan-out benchmark: how much work one price tick costs on the guard-band path against brute force.
 *
 * N accounts (default 1,000,000) all hold SPY, plus 0–5 of 20 other instruments; they are drawn from K
 * distinct random books (default 2,000; every model, long and short, ratios spread over every level),
 * account i being book i mod K. Accounts of one book have the same bands and the same history, so each
 * distinct book is evaluated once per tick and its result stands for all its accounts — which is what
 * lets a million accounts run on one core. The per-instrument index holds every account (sorted by band
 * low and high, as DynamoDB's local indexes do); a tick's query walks the crossed accounts only.
 *
 * For every tick, in one run: evaluations as a share of holders, the query time at N, and the wall time
 * of both paths (the band path: query + crossed × measured cost of an evaluation with bands; brute force:
 * N × measured cost of an evaluation), and missed level changes: every book also runs through brute force
 * (evaluated on every tick) and the two event streams must be identical.
 *   BENCH_FANOUT_ACCOUNTS (1,000,000), BENCH_FANOUT_BOOKS (2,000)
 */
import { prng } from './prng.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { guardBands } from '../shared/bands/guard-bands.ts';
import { Decimal } from '../shared/decimal.ts';
import { buildBook, evaluateBook, parseEvaluationInput } from '../shared/margin/evaluate.ts';
import { parsePricesCsv } from '../shared/replay/prices-csv.ts';
import { thresholdsFor } from '../shared/risk/account-thresholds.ts';
import { initialRiskState, track, type RiskEvent, type RiskState } from '../shared/risk/tracker.ts';

const N = Number.parseInt(process.env.BENCH_FANOUT_ACCOUNTS ?? '1000000', 10);
const K = Math.min(N, Number.parseInt(process.env.BENCH_FANOUT_BOOKS ?? '2000', 10));
const OTHERS = Array.from({ length: 20 }, (_, i) => `O${i}`);
const INSTRUMENTS = ['SPY', ...OTHERS];

const random = prng(20200309);
const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
const cents = (x: number) => new Decimal(Math.round(x * 100)).dividedBy(100);

interface Book {
  account: Record<string, unknown>;
  positions: ({ instrument: string } & Record<string, string>)[];
}

/**
 * Float keys for the in-memory index, rounded so the index never misses: a low is rounded up and a high
 * down (a representable key on the safe side of the exact bound), and rounding a price to the nearest
 * double is monotonic, so an exact price at or past an exact bound is at or past its key too.
 */
const scratch = new DataView(new ArrayBuffer(8));
function nextAfter(x: number, up: boolean): number {
  scratch.setFloat64(0, x);
  const bits = scratch.getBigUint64(0);
  scratch.setBigUint64(0, x > 0 === up ? bits + 1n : bits - 1n);
  return scratch.getFloat64(0);
}
function keyOf(bound: Decimal, up: boolean): number {
  let key = bound.toNumber();
  if (up ? new Decimal(key).lessThan(bound) : new Decimal(key).greaterThan(bound)) key = nextAfter(key, up);
  return key;
}

/** A random book holding SPY, with a target ratio drawn so that most accounts are comfortably SAFE. */
function randomBook(n: number, prices: Map<string, Decimal>): Book {
  const model = pick(['reg-t', 'reg-t', 'reg-t', 'reg-t', 'gross', 'gross', 'portfolio', 'tiered']);
  const held = ['SPY', ...OTHERS.filter(() => random() < 0.1).slice(0, 5)];
  const positions = held.map((instrument) => {
    const short = instrument !== 'SPY' && model !== 'tiered' && random() < 0.25;
    const quantity = Math.max(1, Math.round(10 ** (1 + random() * 2.5))) * (short ? -1 : 1);
    const p: Book['positions'][number] = {
      instrument,
      quantity: String(quantity),
      avgCost: prices.get(instrument)!.toFixed(),
    };
    if (model === 'tiered') p.leverage = '1';
    if (model === 'portfolio' && instrument !== 'SPY') p.assetClass = pick(['equity', 'crypto']);
    return p;
  });
  const u = random();
  // A broker's book: most accounts comfortable, a few percent at risk.
  const target =
    u < 0.85
      ? 2.5 + random() * 7.5
      : u < 0.95
        ? 2 + random() / 2
        : u < 0.99
          ? 1.5 + random() / 2
          : 1.2 + random() * 0.3;
  // Cash that puts today's ratio at the target: E = cash + value (spot). A perpetuals wallet is sized by
  // leverage instead (1–20x): a ratio target on a 1% maintenance rate would mean 50–100x.
  const probe = evaluate({ account: { id: `K${n}`, model, cash: '0' }, positions }, prices);
  const cash =
    model === 'tiered'
      ? probe.evaluation.grossExposure.dividedBy(pick([1, 2, 2, 3, 3, 5, 5, 10, 20])).toDecimalPlaces(2)
      : probe.evaluation.maintenanceRequirement
          .times(target.toFixed(4))
          .minus(probe.evaluation.equity)
          .toDecimalPlaces(2);
  return { account: { id: `K${n}`, model, cash: cash.toFixed() }, positions };
}

function evaluate(book: Book, prices: Map<string, Decimal>) {
  const raw = {
    account: book.account,
    positions: book.positions.map((p) => ({ ...p, price: prices.get(p.instrument)!.toFixed() })),
  };
  const { model, book: built } = buildBook(parseEvaluationInput(raw), { asOf: '2020-03-02' });
  return { evaluation: evaluateBook(model, built, { positionPrices: false }), model, built };
}

function observe(book: Book, state: RiskState, prices: Map<string, Decimal>, at: string) {
  const ev = evaluate(book, prices);
  const out = track(
    state,
    {
      at,
      ratio: ev.evaluation.marginRatio,
      equity: ev.evaluation.equity,
      inMarginCall: ev.evaluation.inMarginCall,
      callRatio: ev.evaluation.callRatio,
    },
    thresholdsFor(ev.built.account, ev.evaluation.equity),
  );
  return { ...out, ev };
}

/** Per instrument: the books holding it, sorted by band low and by band high (±Infinity: no bound). */
class BandIndex {
  private readonly low = new Map<string, { key: Float64Array; book: Int32Array }>();
  private readonly high = new Map<string, { key: Float64Array; book: Int32Array }>();

  constructor(private readonly holders: Map<string, number[]>) {}

  rebuild(lows: Map<string, Float64Array>, highs: Map<string, Float64Array>) {
    for (const [instrument, books] of this.holders) {
      for (const [target, keys] of [
        [this.low, lows.get(instrument)!],
        [this.high, highs.get(instrument)!],
      ] as const) {
        const order = Int32Array.from(books).sort((a, b) =>
          keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0,
        );
        target.set(instrument, { key: Float64Array.from(order, (b) => keys[b]!), book: order });
      }
    }
  }

  /** Books whose band `price` leaves (low ≥ price, or high ≤ price): a binary search, then the crossed. */
  crossed(instrument: string, price: number, into: Set<number>) {
    const lo = this.low.get(instrument);
    const hi = this.high.get(instrument);
    if (!lo || !hi) return;
    // lows ascending: the crossed are the tail from the first low ≥ price.
    for (let i = lowerBound(lo.key, price); i < lo.key.length; i++) into.add(lo.book[i]!);
    // highs ascending: the crossed are the head up to the last high ≤ price.
    for (let i = 0, end = lowerBound(hi.key, nextAfter(price, true)); i < end; i++) into.add(hi.book[i]!);
  }
}

function lowerBound(keys: Float64Array, x: number): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const comparable = (events: RiskEvent[]) =>
  events.map((e) => `${e.type}:${e.at}:${e.type === 'RiskLevelChanged' ? e.to : e.incidentId}`);

interface PhaseResult {
  label: string;
  ticks: number;
  sharePerTick: number[];
  queryMs: number[];
  bandEvalMs: number;
  bandEvals: number;
  bruteEvalMs: number;
  bruteEvals: number;
  crossedAccounts: number;
  missed: number;
}

/** Accounts per book: account i is book i mod K. */
const accountsOf = (b: number) => Math.floor(N / K) + (b < N % K ? 1 : 0);

export function runFanoutBench(): void {
  const startPrices = new Map<string, Decimal>([['SPY', new Decimal('300')]]);
  OTHERS.forEach((o) => startPrices.set(o, cents(20 + random() * 400)));
  const books = Array.from({ length: K }, (_, n) => randomBook(n, startPrices));
  const betas = new Map(OTHERS.map((o) => [o, 0.5 + random()]));
  const holders = new Map<string, number[]>(INSTRUMENTS.map((i) => [i, []]));
  books.forEach((b, n) => b.positions.forEach((p) => holders.get(p.instrument)!.push(n)));

  const spy = parsePricesCsv(
    readFileSync(
      // npm runs the bundle from the repo root
      join(process.cwd(), 'test', 'fixtures', 'SPY_2020-02_2020-04_daily.csv'),
      'utf8',
    ),
    'SPY',
    'SPY',
  )
    .map((bar) => bar.closes.get('SPY')!)
    .slice(11, 35); // 2020-02-19 (the top) to 2020-03-23 (the bottom)
  const crashMoves = spy.slice(1).map((p, i) => p.dividedBy(spy[i]!).minus(1).toNumber());
  const walk = (size: number, ticks: number) =>
    Array.from({ length: ticks }, () => (random() < 0.5 ? -size : size));

  // Every phase starts from the same evaluated state: the first sweep, which writes every book's bands.
  const at0 = '2020-03-02T14:30:00.000Z';
  const base = books.map((b, n) => observe(b, initialRiskState(`K${n}`), startPrices, at0).state);

  const phases: [string, number[]][] = [
    ['SPY ±0.1% ticks', walk(0.001, 10)],
    ['SPY ±0.5% ticks', walk(0.005, 10)],
    ['SPY ±2% ticks', walk(0.02, 10)],
    ['SPY 2020-02-19 → 03-23 daily closes', crashMoves],
  ];
  const results: PhaseResult[] = [];
  for (const [label, moves] of phases) results.push(runPhase(label, moves));

  function runPhase(label: string, moves: number[]): PhaseResult {
    const prices = new Map(startPrices);
    const bandState = base.map((s) => s);
    const bruteState = base.map((s) => s);
    const bandEvents: RiskEvent[][] = books.map(() => []);
    const bruteEvents: RiskEvent[][] = books.map(() => []);
    const lows = new Map(INSTRUMENTS.map((i) => [i, new Float64Array(K).fill(-Infinity)]));
    const highs = new Map(INSTRUMENTS.map((i) => [i, new Float64Array(K).fill(Infinity)]));
    const index = new BandIndex(holders);
    let bandEvalMs = 0;
    let bandEvals = 0;
    let bruteEvalMs = 0;
    let bruteEvals = 0;
    const setBands = (n: number, ev: ReturnType<typeof evaluate>) => {
      const state = bandState[n]!;
      const set = guardBands(ev.model, ev.built, {
        level: state.level!,
        inMarginCall: state.marginCall !== null,
      });
      for (const p of books[n]!.positions) {
        const band = set.kind === 'banded' ? set.bands.find((b) => b.instrument === p.instrument) : undefined;
        lows.get(p.instrument)![n] =
          set.kind === 'always' ? Infinity : band?.low ? keyOf(band.low, true) : -Infinity;
        highs.get(p.instrument)![n] =
          set.kind === 'always' ? Infinity : band?.high ? keyOf(band.high, false) : Infinity;
      }
    };
    books.forEach((b, n) => setBands(n, evaluate(b, prices)));
    index.rebuild(lows, highs);

    const sharePerTick: number[] = [];
    const queryMs: number[] = [];
    let crossedAccounts = 0;
    for (const [t, move] of moves.entries()) {
      prices.set(
        'SPY',
        prices
          .get('SPY')!
          .times(1 + move)
          .toDecimalPlaces(4),
      );
      for (const o of OTHERS) {
        const noise = (random() - 0.5) * Math.abs(move) * 0.5;
        prices.set(
          o,
          prices
            .get(o)!
            .times((1 + betas.get(o)! * move + noise).toFixed(6))
            .toDecimalPlaces(4),
        );
      }
      const at = new Date(Date.parse(at0) + (t + 1) * 60_000).toISOString();

      // Band path: query every instrument's index, then evaluate (once per distinct book) what crossed.
      const q0 = process.hrtime.bigint();
      const crossedBooks = new Set<number>();
      for (const instrument of INSTRUMENTS)
        index.crossed(instrument, prices.get(instrument)!.toNumber(), crossedBooks);
      // Materialize the crossed accounts, as a tick's query pages would: work ∝ crossed accounts.
      const crossedIds = new Int32Array([...crossedBooks].reduce((s, b) => s + accountsOf(b), 0));
      let k = 0;
      for (const b of crossedBooks) for (let id = b; id < N; id += K) crossedIds[k++] = id;
      queryMs.push(Number(process.hrtime.bigint() - q0) / 1e6);
      const tickCrossed = crossedIds.length;
      crossedAccounts += tickCrossed;
      sharePerTick.push(tickCrossed / N);
      const e0 = process.hrtime.bigint();
      for (const n of crossedBooks) {
        const out = observe(books[n]!, bandState[n]!, prices, at);
        bandState[n] = out.state;
        bandEvents[n]!.push(...out.events);
        setBands(n, out.ev);
        bandEvals++;
      }
      index.rebuild(lows, highs);
      bandEvalMs += Number(process.hrtime.bigint() - e0) / 1e6;

      // Brute force: every book, every tick.
      const b0 = process.hrtime.bigint();
      for (let n = 0; n < K; n++) {
        const out = observe(books[n]!, bruteState[n]!, prices, at);
        bruteState[n] = out.state;
        bruteEvents[n]!.push(...out.events);
        bruteEvals++;
      }
      bruteEvalMs += Number(process.hrtime.bigint() - b0) / 1e6;
    }
    let missed = 0;
    for (let n = 0; n < K; n++) {
      const a = comparable(bandEvents[n]!);
      const b = comparable(bruteEvents[n]!);
      if (a.join() !== b.join()) missed += accountsOf(n) * Math.max(1, Math.abs(b.length - a.length));
    }
    return {
      label,
      ticks: moves.length,
      sharePerTick,
      queryMs,
      bandEvalMs,
      bandEvals,
      bruteEvalMs,
      bruteEvals,
      crossedAccounts,
      missed,
    };
  }

  console.log(
    `\nfan-out benchmark: ${N.toLocaleString('en')} accounts holding SPY (+0–5 of 20 others), ${K.toLocaleString('en')} distinct books, every model; one run`,
  );
  for (const r of results) {
    const bandPerEval = r.bandEvalMs / Math.max(1, r.bandEvals); // evaluation + new bands + index update
    const brutePerEval = r.bruteEvalMs / r.bruteEvals;
    const bandMs = r.queryMs.reduce((a, b) => a + b, 0) + r.crossedAccounts * bandPerEval;
    const bruteMs = r.ticks * N * brutePerEval;
    const mean = r.sharePerTick.reduce((a, b) => a + b, 0) / r.ticks;
    const max = Math.max(...r.sharePerTick);
    console.log(
      `  ${r.label.padEnd(38)} ${String(r.ticks).padStart(3)} ticks  evaluations/tick: mean ${(100 * mean).toFixed(3)}% of holders, max ${(100 * max).toFixed(2)}%  query ${(r.queryMs.reduce((a, b) => a + b, 0) / r.ticks).toFixed(1)} ms/tick  wall time band path / brute force: 1 : ${(bruteMs / Math.max(bandMs, 1e-9)).toFixed(0)}  missed level changes: ${r.missed}`,
    );
  }
  const heap = process.memoryUsage();
  console.log(
    `  (wall time = query at N + crossed accounts × measured cost of one evaluation with bands, vs N × measured cost of one evaluation; heap ${(heap.heapUsed / 2 ** 20).toFixed(0)} MiB)`,
  );
}
