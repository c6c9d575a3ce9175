/**
 * `npm run bench`: speed targets as ratios measured in one run, so the machine's speed cancels out.
 *   engine: exact evaluations of 10,000 accounts × 20 positions (fast path and reference engine) vs the same
 *   arithmetic in float64. Run from an esbuild bundle, as Lambda runs it, so no loader sits in the hot loops.
 *   evaluator end to end: evaluations per second per core of the real work-queue handler over the in-memory
 *   adapters, against commit 3489e2c (bench/evaluator-e2e.ts); writes bench/evaluator-cpu.json.
 *   fan-out: evaluations per price tick on the guard-band path against brute force (bench/fanout.ts).
 *   pre-trade what-if: p50 / p99 latency of whatIf() on a 50-position book, as a ratio to its 10 ms goal
 *   (bench/what-if.ts).
 * Set BENCH_ACCOUNTS to change the account count (default 10,000); BENCH_FANOUT_ACCOUNTS and
 * BENCH_FANOUT_BOOKS the fan-out's (1,000,000 accounts from 2,000 books).
 */
import { buildBook, evaluateBook, evaluateBookReference, fastPathStats } from '../shared/margin/evaluate.ts';
import type { Evaluation } from '../shared/margin/evaluation.ts';
import { evaluationToJson } from '../shared/margin/serialize.ts';
import { ParsedInputCache } from '../shared/margin/parse-cache.ts';
import { evaluateAccount } from '../functions/lib/evaluate-account.ts';
import { Tally } from '../functions/lib/telemetry.ts';
import { makeWorkQueueHandler } from '../functions/work-queue/handler.ts';
import { pipelineConfigSchema, type PipelineConfig } from '../shared/pipeline/config.ts';
import { evaluatorBench } from './evaluator-main.ts';
import { runFanoutBench } from './fanout.ts';
import { runWhatIfBench } from './what-if.ts';
import { evaluateFloat } from './float-baseline.ts';
import { MemoryBands, MemoryStore, memoryHandlerDeps } from './memory-store.ts';

const ACCOUNTS = Number.parseInt(process.env.BENCH_ACCOUNTS ?? '10000', 10);
const POSITIONS = 20;

/** 200 instruments with one price each per tick, as a sweep sees them; each account holds 20. */
const INSTRUMENTS = 200;
function priceOf(instrument: number, tick: number): string {
  const seed = (instrument * 7919 + tick * 104_729) % 9_973;
  return `${2 + (seed % 300)}.${String(seed % 100).padStart(2, '0')}`;
}

function syntheticAccount(n: number, tick = 0) {
  const positions = Array.from({ length: POSITIONS }, (_, i) => {
    const seed = (n * 31 + i * 17) % 997;
    const short = (n + i) % 4 === 0;
    const instrument = (n * 13 + i * 7) % INSTRUMENTS;
    return {
      instrument: `S${instrument}`,
      quantity: String((short ? -1 : 1) * (10 + (seed % 500))),
      avgCost: `${2 + (seed % 300)}.${String(seed % 100).padStart(2, '0')}`,
      price: priceOf(instrument, tick),
    };
  });
  return {
    account: { id: `ACC${n}`, model: 'reg-t', cash: `-${10_000 + (n % 50_000)}.00`, asOf: '2026-01-05' },
    positions,
  };
}

/**
 * Accounts are generated, parsed and evaluated in chunks and dropped after, so the benchmark's heap does
 * not grow with ACCOUNTS; each phase's time is summed over the chunks.
 *
 * Each account is seen first (its stored version validated and compiled once), then re-evaluated on TICKS
 * new price vectors, as the evaluator sees it between writes. Both engines and float64 get the same ticks.
 */
const CHUNK = 500;
const TICKS = 4;
function chunkOf(start: number) {
  const inputs = Array.from({ length: Math.min(CHUNK, ACCOUNTS - start) }, (_, k) =>
    syntheticAccount(start + k),
  );
  const ticks = inputs.flatMap((_, k) =>
    Array.from({ length: TICKS }, (_, t) => syntheticAccount(start + k, t + 1)),
  );
  const cache = new ParsedInputCache(CHUNK);
  return {
    inputs,
    ticks,
    cache,
    // First sight through the cache (what the evaluator does); the ticks re-priced from those templates.
    firstSight: inputs.map((raw) => buildBook(cache.parse(raw))),
    ticked: () => ticks.map((raw) => buildBook(cache.parse(raw))),
    floats: ticks.map((raw) => ({
      cash: Number(raw.account.cash), // benchmark baseline only: the float side is what we are measuring against
      positions: raw.positions.map((p) => ({ quantity: Number(p.quantity), price: Number(p.price) })),
    })),
  };
}
type Chunk = ReturnType<typeof chunkOf> & { books: ReturnType<ReturnType<typeof chunkOf>['ticked']> };

/** Reads what the float64 summary computes (equity, requirements, ratio, both uniform moves), as decimals. */
function readSummary(e: Evaluation): number {
  return (
    e.equity.e +
    e.maintenanceRequirement.e +
    e.initialRequirement.e +
    (e.marginRatio?.e ?? 0) +
    (e.inMarginCall ? 1 : 0) +
    (e.distanceToCall.call.move?.e ?? 0) +
    (e.distanceToCall.zeroEquity.move?.e ?? 0)
  );
}

// Warm up every path so the JIT has compiled them before the clock starts.
{
  const warm = { ...chunkOf(0) } as Chunk;
  warm.books = warm.ticked();
  for (let i = 0; i < 400; i++) {
    const { model, book } = warm.books[i % warm.books.length]!;
    readSummary(evaluateBook(model, book, { positionPrices: false }));
    evaluationToJson(evaluateBook(model, book, { positionPrices: false }));
    readSummary(evaluateBookReference(model, book, { positionPrices: false }));
    if (i < 50) evaluateBook(model, book);
    const f = warm.floats[i % warm.floats.length]!;
    evaluateFloat(f.cash, f.positions, i < 50);
  }
}

let sink = 0;
const phases: [string, number, (c: Chunk) => void][] = [
  [
    'float64, summary (ratio, requirements, uniform distances)',
    TICKS,
    (c) => {
      for (const f of c.floats) sink += evaluateFloat(f.cash, f.positions, false).equity > 0 ? 1 : 0;
    },
  ],
  [
    'exact, summary: first sight of a stored version (compile + evaluate)',
    1,
    (c) => {
      for (const { model, book } of c.firstSight)
        sink += readSummary(evaluateBook(model, book, { positionPrices: false }));
    },
  ],
  [
    "exact, summary: fast path, re-priced (the evaluator's hot path)",
    TICKS,
    (c) => {
      for (const { model, book } of c.books)
        sink += readSummary(evaluateBook(model, book, { positionPrices: false }));
    },
  ],
  [
    'exact, summary: fast path, every field as edge strings',
    TICKS,
    (c) => {
      for (const { model, book } of c.books)
        sink += JSON.stringify(evaluationToJson(evaluateBook(model, book, { positionPrices: false }))).length;
    },
  ],
  [
    'exact, summary: reference engine (decimal.js throughout)',
    TICKS,
    (c) => {
      for (const { model, book } of c.books)
        sink += readSummary(evaluateBookReference(model, book, { positionPrices: false }));
    },
  ],
  [
    'float64, full (+ per-position call and zero-equity prices)',
    1,
    (c) => {
      for (let i = 0; i < c.floats.length; i += TICKS)
        sink += evaluateFloat(c.floats[i]!.cash, c.floats[i]!.positions, true).prices.length;
    },
  ],
  [
    'exact, full (reference engine)',
    1,
    (c) => {
      for (let i = 0; i < c.books.length; i += TICKS) {
        const { model, book } = c.books[i]!;
        sink += evaluateBook(model, book).positions.length;
      }
    },
  ],
  [
    'parse + validate input (zod, first sight of a version)',
    1,
    (c) => {
      const fresh = new ParsedInputCache(CHUNK);
      for (const raw of c.inputs) sink += fresh.parse(raw).positions.length;
    },
  ],
  [
    // The evaluator's hot path: the same stored account re-evaluated on a new tick (validated once per version).
    'parse + validate, cached per stored version, new prices',
    TICKS,
    (c) => {
      for (const raw of c.ticks) sink += c.cache.parse(raw).positions.length;
    },
  ],
];
const seconds = phases.map(() => 0);
let peakHeap = 0;
let peakLive = 0;
for (let start = 0; start < ACCOUNTS; start += CHUNK) {
  const chunk = chunkOf(start) as Chunk;
  chunk.books = chunk.ticked();
  const gc = (globalThis as { gc?: () => void }).gc;
  phases.forEach(([, , run], i) => {
    gc?.(); // each phase starts on a clean heap and pays only for its own garbage
    const t0 = process.hrtime.bigint();
    run(chunk);
    seconds[i]! += Number(process.hrtime.bigint() - t0) / 1e9;
  });
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  // With --expose-gc (npm run bench), the live heap after each chunk: what the engine itself retains.
  if (gc) {
    gc();
    peakLive = Math.max(peakLive, process.memoryUsage().heapUsed);
  }
}
const rows = phases.map(([label, per], i) => ({
  label,
  seconds: seconds[i]!,
  perSecond: (ACCOUNTS * per) / seconds[i]!,
}));

console.log(
  `engine benchmark: ${ACCOUNTS} accounts × ${POSITIONS} positions (Reg T), ${TICKS} ticks each, one run, node ${process.version}`,
);
for (const r of rows)
  console.log(
    `  ${r.label.padEnd(70)} ${r.perSecond.toFixed(0).padStart(9)} evals/s  (${r.seconds.toFixed(2)} s)`,
  );
const [floatSummary, , fastSummary, fastEveryField, referenceSummary, floatFull, exactFull, , cachedParse] =
  rows;
console.log(
  `  ratio float64 / exact, summary (fast path):   ${(floatSummary!.perSecond / fastSummary!.perSecond).toFixed(1)}x slower for exactness (goal ≤ 4x)`,
);
console.log(
  `  ratio float64 / exact, summary, every field:  ${(floatSummary!.perSecond / fastEveryField!.perSecond).toFixed(1)}x`,
);
console.log(
  `  ratio fast path / reference engine, summary:  ${(fastSummary!.perSecond / referenceSummary!.perSecond).toFixed(1)}x faster (same decimals, string for string)`,
);
console.log(
  `  ratio float64 / exact, full:                  ${(floatFull!.perSecond / exactFull!.perSecond).toFixed(1)}x slower for exactness`,
);
console.log(
  `  parse + validate, cached: ${cachedParse!.perSecond.toFixed(0)} accounts/s (goal ≥ 20,000); fast path taken ${fastPathStats.fast} times, reference ${fastPathStats.reference}`,
);
console.log(
  `  peak heap during the engine benchmark: ${(peakHeap / 2 ** 20).toFixed(0)} MiB used incl. garbage, ${peakLive ? `${(peakLive / 2 ** 20).toFixed(0)} MiB live after GC` : 'live size needs --expose-gc'} (goal < 300 MiB; sampled per chunk of ${CHUNK} accounts, so it does not grow with BENCH_ACCOUNTS)`,
);
// --- The evaluator: write compaction (on change + heartbeat) against writing every evaluation. ---
async function evaluatorRun(
  label: string,
  config: PipelineConfig,
  accounts: number,
  sweeps: number,
  sweepMinutes = 1,
) {
  const store = new MemoryStore();
  const bands = new MemoryBands();
  const instruments = Array.from({ length: 20 }, (_, i) => `S${i}`);
  for (let a = 0; a < accounts; a++) {
    store.accounts.set(`A${a}`, {
      accountId: `A${a}`,
      model: 'reg-t',
      cash: `-${30_000 + (a % 40) * 1_000}`,
    });
    store.positions.set(
      `A${a}`,
      instruments.map((s, k) => ({
        accountId: `A${a}`,
        instrument: s,
        quantity: String(10 + ((a + k) % 20)),
        avgCost: '100',
      })),
    );
  }
  let clock = Date.parse('2026-01-05T14:30:00Z');
  const deps = {
    store,
    bands,
    publisher: { publish: async () => {} },
    deadLetter: { send: async () => {} },
    config,
    telemetry: new Tally(),
    now: () => new Date(clock),
  };
  let seed = 7;
  const random = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647; // deterministic walk, not money
  const price = instruments.map(() => 100);
  const start = process.hrtime.bigint();
  for (let sweep = 0; sweep < sweeps; sweep++) {
    clock += sweepMinutes * 60_000;
    const step = 0.004 * Math.sqrt(sweepMinutes); // a random walk: the move grows with √time
    instruments.forEach((s, i) => {
      price[i] = Math.round(price[i]! * (1 + (random() - 0.5) * step) * 100) / 100; // a price path in cents, then a decimal string
      store.prices.set(s, {
        instrument: s,
        price: price[i]!.toFixed(2),
        priceTime: new Date(clock).toISOString(),
      });
    });
    for (const id of store.accounts.keys()) await evaluateAccount(id, deps);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const evaluations = accounts * sweeps;
  return {
    label,
    seconds,
    perSecond: evaluations / seconds,
    writesPerEvaluation: store.writes / evaluations,
    bytesPerEvaluation: store.bytesWritten / evaluations,
    bandWritesPerEvaluation: bands.writes / evaluations,
  };
}

const EVAL_ACCOUNTS = Math.max(50, Math.floor(ACCOUNTS / 20));
const compacted = await evaluatorRun(
  'evaluator, write on change + heartbeat',
  pipelineConfigSchema.parse({}),
  EVAL_ACCOUNTS,
  30,
);
const everyTime = await evaluatorRun(
  'evaluator, write every evaluation',
  pipelineConfigSchema.parse({ heartbeatMs: 1, ratioDelta: '0.000000000001' }),
  EVAL_ACCOUNTS,
  30,
);
const bandRegime = await evaluatorRun(
  'evaluator, 15-minute sweeps, 4 h heartbeat',
  pipelineConfigSchema.parse({}),
  EVAL_ACCOUNTS,
  30,
  15,
);
console.log(
  `\nevaluator benchmark: ${EVAL_ACCOUNTS} accounts × 20 positions, 30 sweeps of a random walk, in-memory store`,
);
for (const r of [compacted, everyTime, bandRegime]) {
  console.log(
    `  ${r.label.padEnd(44)} ${r.perSecond.toFixed(0).padStart(7)} evals/s  ${r.writesPerEvaluation.toFixed(3)} writes/eval  ${(r.bytesPerEvaluation / 1024).toFixed(2)} KiB written/eval  ${r.bandWritesPerEvaluation.toFixed(3)} band writes/eval`,
  );
}
console.log(
  `  ratio writes, every evaluation / compacted: ${(everyTime.writesPerEvaluation / compacted.writesPerEvaluation).toFixed(1)}x fewer writes with compaction`,
);
console.log(
  `  ratio speed, compacted / every evaluation:  ${(compacted.perSecond / everyTime.perSecond).toFixed(2)}x`,
);

// --- Sweep throughput of one segment worker (work-queue handler, in-memory store). ---
{
  const store = new MemoryStore();
  for (let a = 0; a < EVAL_ACCOUNTS * 4; a++) {
    store.accounts.set(`W${a}`, { accountId: `W${a}`, model: 'reg-t', cash: '-20000' });
    store.positions.set(
      `W${a}`,
      Array.from({ length: 20 }, (_, k) => ({
        accountId: `W${a}`,
        instrument: `S${k}`,
        quantity: '15',
        avgCost: '100',
      })),
    );
  }
  for (let k = 0; k < 20; k++)
    store.prices.set(`S${k}`, { instrument: `S${k}`, price: '101.25', priceTime: new Date().toISOString() });
  const deps = memoryHandlerDeps(store, { sweepSegments: 4, concurrency: 16 });
  const worker = makeWorkQueueHandler(() => deps);
  const start = process.hrtime.bigint();
  await worker({
    Records: [
      {
        messageId: 'seg0',
        body: JSON.stringify({ kind: 'segment', segment: 0, totalSegments: 4, sweepId: 'bench' }),
      },
    ],
  } as never);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(
    `\nsweep benchmark: one segment of ${EVAL_ACCOUNTS} accounts (of ${EVAL_ACCOUNTS * 4}, 4 segments), one worker, in-memory store`,
  );
  console.log(
    `  ${(EVAL_ACCOUNTS / seconds).toFixed(0)} accounts/s per segment worker; a 1-minute sweep of 1M accounts needs ≈ ${Math.ceil(1_000_000 / ((EVAL_ACCOUNTS / seconds) * 60))} concurrent segment workers of this speed`,
  );
}

const heap = process.memoryUsage();
console.log(
  `  memory: heap used ${(heap.heapUsed / 2 ** 20).toFixed(0)} MiB, rss ${(heap.rss / 2 ** 20).toFixed(0)} MiB`,
);
if (sink === -1) console.log('');

// --- The evaluator end to end: the work-queue handler over the in-memory adapters, before and after. ---
await evaluatorBench(); // writes bench/evaluator-cpu.json

runFanoutBench();

runWhatIfBench();
