/**
 * `npm run bench`: speed targets as ratios measured in one run, so the machine's speed cancels out.
 *   engine: exact Decimal evaluations of 10,000 accounts × 20 positions vs the same arithmetic in float64.
 *   fan-out: evaluations per price tick on the guard-band path against brute force (bench/fanout.ts).
 * Set BENCH_ACCOUNTS to change the account count (default 10,000); BENCH_FANOUT_ACCOUNTS and
 * BENCH_FANOUT_BOOKS the fan-out's (1,000,000 accounts from 2,000 books).
 */
import { buildBook, evaluateBook, parseEvaluationInput } from '../shared/margin/evaluate.ts';
import { ParsedInputCache } from '../shared/margin/parse-cache.ts';
import { evaluateAccount } from '../functions/lib/evaluate-account.ts';
import { Tally } from '../functions/lib/telemetry.ts';
import { makeWorkQueueHandler } from '../functions/work-queue/handler.ts';
import { pipelineConfigSchema, type PipelineConfig } from '../shared/pipeline/config.ts';
import { runFanoutBench } from './fanout.ts';
import { evaluateFloat } from './float-baseline.ts';
import { MemoryBands, MemoryStore, memoryHandlerDeps } from './memory-store.ts';

const ACCOUNTS = Number.parseInt(process.env.BENCH_ACCOUNTS ?? '10000', 10);
const POSITIONS = 20;

function syntheticAccount(n: number) {
  const positions = Array.from({ length: POSITIONS }, (_, i) => {
    const seed = (n * 31 + i * 17) % 997;
    const short = (n + i) % 4 === 0;
    return {
      instrument: `S${i}`,
      quantity: String((short ? -1 : 1) * (10 + (seed % 500))),
      avgCost: `${2 + (seed % 300)}.${String(seed % 100).padStart(2, '0')}`,
      price: `${2 + ((seed * 7) % 300)}.${String((seed * 3) % 100).padStart(2, '0')}`,
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
 */
const CHUNK = 500;
function chunkOf(start: number) {
  const inputs = Array.from({ length: Math.min(CHUNK, ACCOUNTS - start) }, (_, k) =>
    syntheticAccount(start + k),
  );
  return {
    inputs,
    ticked: inputs.map((raw) => ({
      ...raw,
      positions: raw.positions.map((p) => ({ ...p, price: `${p.price}1` })),
    })),
    books: inputs.map((raw) => buildBook(parseEvaluationInput(raw))),
    floats: inputs.map((raw) => ({
      cash: Number(raw.account.cash), // benchmark baseline only: the float side is what we are measuring against
      positions: raw.positions.map((p) => ({ quantity: Number(p.quantity), price: Number(p.price) })),
    })),
  };
}

// Warm up both paths so the JIT has compiled them before the clock starts.
{
  const warm = chunkOf(0);
  for (let i = 0; i < 200; i++) {
    const { model, book } = warm.books[i % warm.books.length]!;
    evaluateBook(model, book);
    evaluateFloat(
      warm.floats[i % warm.floats.length]!.cash,
      warm.floats[i % warm.floats.length]!.positions,
      true,
    );
  }
}

let sink = 0;
const phases: [string, (c: ReturnType<typeof chunkOf>, cache: ParsedInputCache) => void][] = [
  [
    'decimal, summary (ratio, requirements, uniform distance)',
    (c) => {
      for (const { model, book } of c.books)
        sink += evaluateBook(model, book, { positionPrices: false }).positions.length;
    },
  ],
  [
    'float64, summary',
    (c) => {
      for (const f of c.floats) sink += evaluateFloat(f.cash, f.positions, false).equity > 0 ? 1 : 0;
    },
  ],
  [
    'decimal, full (+ per-position call and zero-equity prices)',
    (c) => {
      for (const { model, book } of c.books) sink += evaluateBook(model, book).positions.length;
    },
  ],
  [
    'float64, full',
    (c) => {
      for (const f of c.floats) sink += evaluateFloat(f.cash, f.positions, true).prices.length;
    },
  ],
  [
    'decimal, parse + validate input (zod, first sight of a version)',
    (c, cache) => {
      for (const raw of c.inputs) sink += cache.parse(raw).positions.length; // first sight: zod
    },
  ],
  [
    // The evaluator's hot path: the same stored account re-evaluated on a new tick (validated once per version).
    'decimal, parse + validate, cached per stored version, new prices',
    (c, cache) => {
      for (const raw of c.ticked) sink += cache.parse(raw).positions.length;
    },
  ],
];
const seconds = phases.map(() => 0);
let peakHeap = 0;
let peakLive = 0;
for (let start = 0; start < ACCOUNTS; start += CHUNK) {
  const chunk = chunkOf(start);
  const cache = new ParsedInputCache(CHUNK);
  phases.forEach(([, run], i) => {
    const t0 = process.hrtime.bigint();
    run(chunk, cache);
    seconds[i]! += Number(process.hrtime.bigint() - t0) / 1e9;
  });
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  // With --expose-gc (npm run bench), the live heap after each chunk: what the engine itself retains.
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    peakLive = Math.max(peakLive, process.memoryUsage().heapUsed);
  }
}
const rows = phases.map(([label], i) => ({ label, seconds: seconds[i]!, perSecond: ACCOUNTS / seconds[i]! }));

console.log(
  `engine benchmark: ${ACCOUNTS} accounts × ${POSITIONS} positions (Reg T), one run, node ${process.version}`,
);
for (const r of rows)
  console.log(
    `  ${r.label.padEnd(62)} ${r.perSecond.toFixed(0).padStart(9)} evals/s  (${r.seconds.toFixed(2)} s)`,
  );
const [decSummary, floatSummary, decFull, floatFull] = rows;
console.log(
  `  ratio float64 / decimal, summary: ${(floatSummary!.perSecond / decSummary!.perSecond).toFixed(1)}x slower for exactness`,
);
console.log(
  `  ratio float64 / decimal, full:    ${(floatFull!.perSecond / decFull!.perSecond).toFixed(1)}x slower for exactness`,
);
console.log(
  `  peak heap during the engine benchmark: ${(peakHeap / 2 ** 20).toFixed(0)} MiB used incl. garbage, ${peakLive ? `${(peakLive / 2 ** 20).toFixed(0)} MiB live after GC` : 'live size needs --expose-gc'} (sampled per chunk of ${CHUNK} accounts, so it does not grow with BENCH_ACCOUNTS)`,
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

runFanoutBench();
