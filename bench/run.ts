/**
 * `npm run bench`: speed targets as ratios measured in one run, so the machine's speed cancels out.
 *   engine: exact Decimal evaluations of 10,000 accounts × 20 positions vs the same arithmetic in float64.
 * Set BENCH_ACCOUNTS to change the account count (default 10,000).
 */
import { buildBook, evaluateBook, parseEvaluationInput } from '../shared/margin/evaluate.ts';
import { evaluateFloat } from './float-baseline.ts';

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

function time<T>(
  label: string,
  count: number,
  run: () => T,
): { label: string; seconds: number; perSecond: number } {
  const start = process.hrtime.bigint();
  run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { label, seconds, perSecond: count / seconds };
}

const inputs = Array.from({ length: ACCOUNTS }, (_, n) => syntheticAccount(n));
const books = inputs.map((raw) => buildBook(parseEvaluationInput(raw)));
const floats = inputs.map((raw) => ({
  cash: Number(raw.account.cash), // benchmark baseline only: the float side is what we are measuring against
  positions: raw.positions.map((p) => ({ quantity: Number(p.quantity), price: Number(p.price) })),
}));

// Warm up both paths so the JIT has compiled them before the clock starts.
for (let i = 0; i < 200; i++) {
  evaluateBook(books[i % books.length]!.model, books[i % books.length]!.book);
  evaluateFloat(floats[i % floats.length]!.cash, floats[i % floats.length]!.positions, true);
}

const rows: { label: string; seconds: number; perSecond: number }[] = [];
let sink = 0;
rows.push(
  time('decimal, summary (ratio, requirements, uniform distance)', ACCOUNTS, () => {
    for (const { model, book } of books)
      sink += evaluateBook(model, book, { positionPrices: false }).positions.length;
  }),
);
rows.push(
  time('float64, summary', ACCOUNTS, () => {
    for (const f of floats) sink += evaluateFloat(f.cash, f.positions, false).equity > 0 ? 1 : 0;
  }),
);
rows.push(
  time('decimal, full (+ per-position call and zero-equity prices)', ACCOUNTS, () => {
    for (const { model, book } of books) sink += evaluateBook(model, book).positions.length;
  }),
);
rows.push(
  time('float64, full', ACCOUNTS, () => {
    for (const f of floats) sink += evaluateFloat(f.cash, f.positions, true).prices.length;
  }),
);
rows.push(
  time('decimal, parse + validate input (zod)', ACCOUNTS, () => {
    for (const raw of inputs) sink += parseEvaluationInput(raw).positions.length;
  }),
);

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
const heap = process.memoryUsage();
console.log(
  `  memory: heap used ${(heap.heapUsed / 2 ** 20).toFixed(0)} MiB, rss ${(heap.rss / 2 ** 20).toFixed(0)} MiB`,
);
if (sink === -1) console.log('');
