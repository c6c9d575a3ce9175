import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal, ZERO, sum } from '../../shared/decimal.ts';
import { buildBook, parseEvaluationInput } from '../../shared/margin/evaluate.ts';
import type { Book, PositionRule } from '../../shared/margin/model.ts';
import {
  maximiseSavings,
  optionBookRequirements,
  planPairing,
  quoteOf,
} from '../../shared/margin/options/pairing.ts';
import { standaloneCost } from '../../shared/margin/options/strategies.ts';
import { regTModel } from '../../shared/margin/reg-t.ts';
import { scaled } from '../helpers/scale.ts';

/**
 * Optimal pairing (shared/margin/options/pairing.ts), against brute force on books of up to 8 legs:
 * - the optimum is never worse than any valid pairing: every feasible count vector of every candidate
 *   strategy is enumerated and its total computed directly (strategy costs plus what is left margined
 *   alone), not through the solver's savings;
 * - adding a covering leg never raises the requirement by more than that leg's own requirement alone
 *   (its cost: a long option has no loan value), so the account's excess never falls on the ELV basis.
 */

const STRIKES = ['90', '95', '100', '105', '110'];
const EXPIRIES = ['2026-03-20', '2026-04-17'];

interface RawLeg {
  right: 'call' | 'put';
  strike: string;
  expiry: string;
  quantity: number;
  cents: number;
}

const legArb = fc.record({
  right: fc.constantFrom('call' as const, 'put' as const),
  strike: fc.constantFrom(...STRIKES),
  expiry: fc.constantFrom(...EXPIRIES),
  quantity: fc.integer({ min: -2, max: 2 }).filter((q) => q !== 0),
  cents: fc.integer({ min: 5, max: 1500 }),
});

const optionPosition = (l: RawLeg, quantity = l.quantity) => ({
  instrument: `Z ${l.expiry} ${l.right === 'call' ? 'C' : 'P'}${l.strike}`,
  quantity: String(quantity),
  price: new Decimal(l.cents).dividedBy(100).toFixed(),
  instrumentType: 'option',
  underlying: 'Z',
  right: l.right,
  strike: l.strike,
  expiry: l.expiry,
  underlyingClass: 'equity',
});

const bookArb = fc.record({
  legs: fc.uniqueArray(legArb, {
    minLength: 1,
    maxLength: 7,
    selector: (l) => `${l.right}${l.strike}${l.expiry}`,
  }),
  shares: fc.constantFrom(0, 100, 200, -100, -200, 150),
  spot: fc.integer({ min: 8000, max: 12000 }),
});

type RawBook = { legs: RawLeg[]; shares: number; spot: number };

function positionsOf(b: RawBook) {
  const spot = new Decimal(b.spot).dividedBy(100).toFixed();
  const options = b.legs.map((l) => optionPosition(l));
  return b.shares === 0
    ? options.map((o) => ({ ...o, underlyingPrice: spot }))
    : [{ instrument: 'Z', quantity: String(b.shares), price: spot }, ...options];
}

function bookOf(positions: Record<string, unknown>[]): Book<never> {
  const { book } = buildBook(
    parseEvaluationInput({ account: { id: 'P', model: 'reg-t', cash: '100000' }, positions }),
    { asOf: '2026-03-02' },
  );
  return book as Book<never>;
}

const ruleOf = (book: Book<never>): PositionRule => regTModel.separable!(book).rule;

/** Every feasible count vector, each total computed directly; returns the least. */
function bruteForce(book: Book<never>): Decimal {
  const stockRule = ruleOf(book);
  const ctx = { positions: book.positions, stockRule, asOf: book.asOf };
  const plan = planPairing(ctx);
  const quote = quoteOf(book.positions);
  let total = ZERO;
  for (const { legs, candidates } of plan.byUnderlying) {
    const costs = candidates.map((c) => c.cost(quote).maintenance);
    const left = new Map(legs.map((l) => [l.index, l.position.quantity.abs()]));
    let best: Decimal | null = null;
    const alone = () =>
      sum(
        legs.map((l) => {
          const rest = left.get(l.index)!;
          if (rest.isZero()) return ZERO;
          if (l.contract) return standaloneCost(l, quote, stockRule, book.asOf).maintenance.times(rest);
          return stockRule.requirement({ ...l.position, quantity: rest.times(l.sign) }, quote.price(l.index))
            .maintenance;
        }),
      );
    const walk = (t: number, paired: Decimal) => {
      if (t === candidates.length) {
        const value = paired.plus(alone());
        if (best === null || value.lessThan(best)) best = value;
        return;
      }
      const c = candidates[t]!;
      let n = 0;
      for (;;) {
        walk(t + 1, paired.plus(costs[t]!.times(n)));
        const fits = c.legs.every((l) => left.get(l.index)!.greaterThanOrEqualTo(l.perUnit));
        if (!fits) break;
        for (const l of c.legs) left.set(l.index, left.get(l.index)!.minus(l.perUnit));
        n++;
      }
      for (const l of c.legs) left.set(l.index, left.get(l.index)!.plus(l.perUnit * n));
    };
    walk(0, ZERO);
    total = total.plus(best!);
  }
  return total;
}

function optimal(book: Book<never>) {
  const stockRule = ruleOf(book);
  const ctx = { positions: book.positions, stockRule, asOf: book.asOf };
  return optionBookRequirements(ctx, planPairing(ctx), quoteOf(book.positions));
}

const RUNS = scaled(150, 1500);

describe('optimal option pairing', () => {
  it('is never worse than any valid pairing (exhaustive on books of up to 8 legs)', () => {
    fc.assert(
      fc.property(bookArb, (raw) => {
        const book = bookOf(positionsOf(raw));
        const found = optimal(book);
        expect(found.optimal).toBe(true);
        expect(found.maintenance.toFixed()).toBe(bruteForce(book).toFixed());
        // The grouping accounts for every unit of every leg and sums to the total.
        expect(sum(found.groups.map((g) => g.maintenance)).toFixed()).toBe(found.maintenance.toFixed());
        for (const p of book.positions) {
          const taken = sum(
            found.groups.flatMap((g) =>
              g.legs.filter((l) => l.instrument === p.instrument).map((l) => l.quantity),
            ),
          );
          expect(taken.toFixed()).toBe(p.quantity.toFixed());
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('adding a covering leg raises the requirement by at most that leg alone', () => {
    fc.assert(
      fc.property(bookArb, legArb, fc.boolean(), (raw, extra, stock) => {
        const positions = positionsOf(raw);
        const base = bookOf(positions);
        const before = optimal(base).maintenance;
        let added: Record<string, unknown>;
        if (stock && raw.shares !== 0) {
          // More of the underlying: a long (short) stock leg covers short calls (puts).
          added = { ...positions[0]!, quantity: String(raw.shares + Math.sign(raw.shares) * 100) };
          const grown = bookOf([added, ...positions.slice(1)]);
          const alone = ruleOf(grown).requirement(
            { ...grown.positions[0]!, quantity: new Decimal(Math.sign(raw.shares) * 100) },
            grown.positions[0]!.price,
          ).maintenance;
          expect(optimal(grown).maintenance.lessThanOrEqualTo(before.plus(alone))).toBe(true);
          return;
        }
        // A long option leg (a new series or more of a held one): covers shorts in spreads.
        const key = optionPosition(extra).instrument;
        const at = positions.findIndex((p) => p.instrument === key);
        // Buying back a held short closes it rather than adding a leg: not this property.
        fc.pre(at < 0 || Number(positions[at]!.quantity) > 0);
        const first = positions[0] as Record<string, unknown>;
        const spot = first.instrumentType === 'option' ? { underlyingPrice: first.underlyingPrice } : {};
        const grownPositions =
          at >= 0
            ? positions.map((p, i) => (i === at ? { ...p, quantity: String(Number(p.quantity) + 1) } : p))
            : [...positions, { ...optionPosition(extra, 1), ...spot }];
        const grown = bookOf(grownPositions as Record<string, unknown>[]);
        const index = grown.positions.findIndex((p) => p.instrument === key);
        const leg = grown.positions[index]!;
        const ctx = { positions: grown.positions, stockRule: ruleOf(grown), asOf: grown.asOf };
        const longAlone = standaloneCost(
          {
            index,
            position: leg,
            contract: planPairing(ctx).legs.find((l) => l.index === index)?.contract,
            sign: 1,
          },
          quoteOf(grown.positions),
          ctx.stockRule,
          grown.asOf,
        ).maintenance;
        expect(optimal(grown).maintenance.lessThanOrEqualTo(before.plus(longAlone))).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('the branch and bound matches enumeration on random integer programs', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 2, maxLength: 5 }),
        fc.array(
          fc.record({
            legs: fc.uniqueArray(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 3 }),
            perUnit: fc.integer({ min: 1, max: 2 }),
            saving: fc.integer({ min: -5, max: 40 }),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        (capacity, raw) => {
          const instances = raw.map((r) => ({
            uses: r.legs.filter((l) => l < capacity.length).map((l) => [l, r.perUnit] as const),
            saving: new Decimal(r.saving),
          }));
          const solved = maximiseSavings({ capacity, instances });
          let best = 0;
          const left = [...capacity];
          const walk = (t: number, total: number) => {
            if (t === instances.length) {
              best = Math.max(best, total);
              return;
            }
            const inst = instances[t]!;
            let n = 0;
            for (;;) {
              walk(t + 1, total + n * raw[t]!.saving);
              if (inst.uses.length === 0 || !inst.uses.every(([l, k]) => left[l]! >= k)) break;
              for (const [l, k] of inst.uses) left[l]! -= k;
              n++;
            }
            for (const [l, k] of inst.uses) left[l]! += k * n;
          };
          walk(0, 0);
          expect(solved.saving.toNumber()).toBe(best);
          // The solution is feasible and worth what it says.
          const used = capacity.map(() => 0);
          solved.units.forEach((n, t) => instances[t]!.uses.forEach(([l, k]) => (used[l]! += n * k)));
          used.forEach((u, l) => expect(u).toBeLessThanOrEqual(capacity[l]!));
          expect(solved.units.reduce((s, n, t) => s + n * raw[t]!.saving, 0)).toBe(best);
        },
      ),
      { numRuns: RUNS * 4 },
    );
  });
});
