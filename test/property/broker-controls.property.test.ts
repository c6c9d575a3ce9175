/**
 * Issue 25's properties: withdrawable is the largest withdrawal that keeps the level and stays out of a
 * call (bisection against the engine), and a what-if of an order with its exact reverse returns the
 * original evaluation (and a batch's result does not depend on its order).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../shared/decimal.ts';
import { parseOrThrow } from '../../shared/errors.ts';
import {
  buildBook,
  evaluateBook,
  parseEvaluationInput,
  type ValidatedInput,
} from '../../shared/margin/evaluate.ts';
import { evaluationToJson } from '../../shared/margin/serialize.ts';
import { thresholdsFor } from '../../shared/risk/account-thresholds.ts';
import { classify, rawLevel, RISK_LEVELS, severity, type RiskLevel } from '../../shared/risk/levels.ts';
import { proposedOrdersSchema, whatIf } from '../../shared/risk/what-if.ts';
import { withdrawable } from '../../shared/risk/withdrawable.ts';
import { bookArb, fixedPoint } from '../helpers/arbitraries.ts';
import { scaled } from '../helpers/scale.ts';

const RUNS = { numRuns: scaled(40, 200) };
const MODELS = ['gross', 'reg-t', 'tiered', 'portfolio', 'cash'] as const;

function toInput(model: string, book: { cash: string; positions: object[] }, riskContext?: object) {
  return {
    account: { id: 'P', model, cash: book.cash, asOf: '2026-01-05', ...(riskContext ? { riskContext } : {}) },
    positions: book.positions,
  };
}

const bookFor = (model: (typeof MODELS)[number]) =>
  bookArb(model !== 'cash', 5).map((b) => (model === 'cash' ? { ...b, cash: b.cash.replace('-', '') } : b));

/** The engine's own answer: does withdrawing w keep `level` (tracked) and stay out of a margin call? */
function keeps(input: ValidatedInput, level: RiskLevel, w: Decimal): boolean {
  const { model, book } = buildBook({
    ...input,
    account: { ...input.account, cash: input.account.cash.minus(w) },
  });
  const e = evaluateBook(model, book, { positionPrices: false });
  const after = classify(e.marginRatio, e.equity, level, thresholdsFor(input.account, e.equity));
  return after === level && !e.inMarginCall;
}

describe('withdrawable', () => {
  it('is the largest withdrawal that keeps the level and stays out of a call (bisection on the engine)', () => {
    const arb = fc.constantFrom(...MODELS).chain((model) =>
      fc.record({
        model: fc.constant(model),
        book: bookFor(model),
        worse: fc.integer({ min: 0, max: 3 }),
        // Large accounts' thresholds switch with equity (×1.1 at 1,000,000): a withdrawal can cross it.
        context: fc.option(fc.constant({ strategyRisk: 'high' }), { nil: undefined }),
      }),
    );
    let bounded = 0;
    fc.assert(
      fc.property(arb, ({ model, book, worse, context }) => {
        const input = parseEvaluationInput(toInput(model, book, context));
        const { model: m, book: b } = buildBook(input);
        const now = evaluateBook(m, b, { positionPrices: false });
        const t = thresholdsFor(input.account, now.equity);
        const raw = rawLevel(now.marginRatio, now.equity, t);
        // A tracked level at or worse than the raw one, where hysteresis would keep it (else the raw one).
        const candidate = RISK_LEVELS[Math.min(3, severity(raw) + (worse % 2 === 0 ? 0 : worse))]!;
        const level = classify(now.marginRatio, now.equity, candidate, t) === candidate ? candidate : raw;
        const w = withdrawable(m, b, { level, thresholdsAt: (e) => thresholdsFor(input.account, e) });
        if (!keeps(input, level, new Decimal(0))) {
          expect(w.amount.isZero()).toBe(true);
          return;
        }
        // Bisection for the supremum of withdrawals that keep it, against the engine alone.
        let lo = new Decimal(0);
        let hi = Decimal.max(now.equity, 0).plus(1);
        const top = hi;
        expect(keeps(input, level, hi)).toBe(false);
        for (let k = 0; k < 56; k++) {
          const mid = lo.plus(hi).dividedBy(2);
          if (keeps(input, level, mid)) lo = mid;
          else hi = mid;
        }
        // 56 halvings leave the bisection within (initial range) / 2^56 of the supremum: the tolerance
        // must allow that much (1e-15 of the final bound alone was tighter than the bisection itself).
        const tolerance = hi
          .abs()
          .plus(1)
          .times('1e-15')
          .plus(top.dividedBy(new Decimal(2).pow(55)));
        expect(w.amount.minus(lo).abs().lessThanOrEqualTo(tolerance)).toBe(true);
        // Exact at the bound: on it, it keeps the level exactly when inclusive; a hair beyond, it never does.
        if (w.amount.greaterThan(0)) {
          bounded += 1;
          // (A root that is no finite decimal is rounded to 40 digits, a hair either side of the line.)
          if (w.amount.sd() < 30) expect(keeps(input, level, w.amount)).toBe(w.inclusive);
          const hair = w.amount.times('1e-25').plus('1e-25');
          expect(keeps(input, level, w.amount.minus(hair))).toBe(true);
          expect(keeps(input, level, w.amount.plus(hair))).toBe(false);
        }
      }),
      RUNS,
    );
    expect(bounded).toBeGreaterThan(0);
  });
});

describe('what-if', () => {
  const orderArb = (positions: number) =>
    fc.record({
      held: fc.integer({ min: 0, max: positions }), // positions = a new instrument
      side: fc.constantFrom('BUY', 'SELL'),
      quantity: fixedPoint(1, 5_000_000, 4),
      price: fc.option(fixedPoint(5_000, 50_000_000, 4), { nil: undefined }),
    });
  const toOrder = (o: { held: number; side: string; quantity: string; price?: string }, n: number) => ({
    instrument: o.held < n ? `I${o.held}` : 'NEW',
    side: o.side,
    quantity: o.quantity,
    ...(o.price !== undefined || o.held >= n ? { price: o.price ?? '100' } : {}),
  });
  const reverse = (o: ReturnType<typeof toOrder>) => ({ ...o, side: o.side === 'BUY' ? 'SELL' : 'BUY' });

  it('an order and its exact reverse return the original evaluation, every field', () => {
    const arb = fc.constantFrom(...MODELS).chain((model) =>
      bookFor(model).chain((book) =>
        fc.record({
          model: fc.constant(model),
          book: fc.constant(book),
          order: orderArb(book.positions.length),
        }),
      ),
    );
    fc.assert(
      fc.property(arb, ({ model, book, order }) => {
        const input = parseEvaluationInput(toInput(model, book));
        const o = toOrder(order, book.positions.length);
        const orders = parseOrThrow(proposedOrdersSchema, [o, reverse(o)]);
        for (const positionPrices of [false, true]) {
          const r = whatIf(input, orders, { positionPrices });
          expect(r.after).not.toBeNull();
          expect(evaluationToJson(r.after!.evaluation)).toEqual(evaluationToJson(r.before.evaluation));
          expect([r.after!.level, r.after!.restriction]).toEqual([r.before.level, r.before.restriction]);
        }
      }),
      { numRuns: scaled(40, 200) },
    );
  });

  it('a batch gives the same book whatever the order of its orders', () => {
    const arb = fc.constantFrom('gross', 'reg-t', 'tiered', 'portfolio').chain((model) =>
      bookFor(model).chain((book) =>
        fc.record({
          model: fc.constant(model),
          book: fc.constant(book),
          orders: fc.array(orderArb(book.positions.length), { minLength: 2, maxLength: 4 }),
        }),
      ),
    );
    fc.assert(
      fc.property(arb, ({ model, book, orders }) => {
        const input = parseEvaluationInput(toInput(model, book));
        const list = orders.map((o) => toOrder(o, book.positions.length));
        const run = (l: unknown[]) => whatIf(input, parseOrThrow(proposedOrdersSchema, l)).after;
        const a = run(list);
        const b = run([...list].reverse());
        expect(a === null).toBe(b === null);
        if (a && b) expect(evaluationToJson(b.evaluation)).toEqual(evaluationToJson(a.evaluation));
      }),
      { numRuns: scaled(40, 200) },
    );
  });
});
