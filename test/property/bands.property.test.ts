import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { guardBands } from '../../shared/bands/guard-bands.ts';
import { Decimal } from '../../shared/decimal.ts';
import { InputError } from '../../shared/errors.ts';
import { buildBook, evaluateBook, parseEvaluationInput } from '../../shared/margin/evaluate.ts';
import { thresholdsFor } from '../../shared/risk/account-thresholds.ts';
import { RISK_LEVELS } from '../../shared/risk/levels.ts';
import { initialRiskState, track, type RiskState } from '../../shared/risk/tracker.ts';
import { BAND_MODELS, bookArb, type RawBook } from '../helpers/band-books.ts';
import { scaled } from '../helpers/scale.ts';

const SCALE = 1_000_000_000_000n; // where inside a band: a fraction in 12 digits

/** Evaluates a raw book and folds it into the tracker; null when the generated book is invalid. */
function observe(raw: RawBook, state: RiskState, at: string) {
  let built;
  try {
    built = buildBook(parseEvaluationInput(raw), { asOf: '2026-01-05' });
  } catch (e) {
    if (e instanceof InputError) return null;
    throw e;
  }
  const { model, book } = built;
  const ev = evaluateBook(model, book, { positionPrices: false });
  const out = track(
    state,
    { at, ratio: ev.marginRatio, equity: ev.equity, inMarginCall: ev.inMarginCall, callRatio: ev.callRatio },
    thresholdsFor(book.account, ev.equity),
  );
  return { ...out, model, book };
}

/** A point strictly inside (low, high): `fraction` of the way, in 12-digit steps; unbounded sides stop at ÷100 / ×20. */
function inside(price: Decimal, low: Decimal | null, high: Decimal | null, fraction: bigint): Decimal | null {
  const lo = low ?? price.dividedBy(100);
  const hi = high ?? price.times(20);
  const p = lo.plus(hi.minus(lo).times(fraction.toString()).dividedBy(SCALE.toString()));
  const strictly = p.greaterThan(lo) && p.lessThan(hi) && (low !== null || p.isPositive());
  return strictly ? p : null;
}

// Adversarial fractions: one 12-digit step from either edge, often; anywhere, otherwise.
const fraction = fc.oneof(fc.constant(1n), fc.constant(SCALE - 1n), fc.bigInt({ min: 1n, max: SCALE - 1n }));

const start = initialRiskState('P');
const priorState = fc.record({
  level: fc.constantFrom(...RISK_LEVELS),
  inCall: fc.boolean(),
});

describe('guard bands (property): inside every band, nothing can change', () => {
  for (const model of BAND_MODELS) {
    it(`${model}: random simultaneous moves inside all bands never change level or margin-call state`, () => {
      let banded = 0;
      fc.assert(
        fc.property(
          bookArb(model),
          priorState,
          fc.array(fc.array(fraction, { minLength: 30, maxLength: 30 }), { minLength: 3, maxLength: 3 }),
          (raw, prior, moves) => {
            // Any remembered level and call state (hysteresis) the account could be in before today.
            const before: RiskState = {
              ...start,
              level: prior.level,
              lastAt: '2026-01-05T10:00:00.000Z',
              incident: prior.level === 'SAFE' ? null : { id: 'i', openedAt: 'x', worstLevel: prior.level },
              marginCall: prior.inCall
                ? { id: 'c', since: '2026-01-05T10:00:00.000Z', worstRatio: null }
                : null,
            };
            const today = observe(raw, before, '2026-01-05T11:00:00.000Z');
            if (!today) return;
            const tracked = today.state;
            const set = guardBands(today.model, today.book, {
              level: tracked.level!,
              inMarginCall: tracked.marginCall !== null,
            });
            if (set.kind === 'always') return;
            banded++;
            const byInstrument = new Map(set.bands.map((b) => [b.instrument, b]));
            for (const [k, move] of moves.entries()) {
              const positions = raw.positions.map((p, i) => {
                const b = byInstrument.get(p.instrument as string)!;
                const price = inside(b.price, b.low, b.high, move[i]!);
                return price ? { ...p, price: price.toFixed() } : p;
              });
              const later = observe({ ...raw, positions }, tracked, `2026-01-05T12:0${k}:00.000Z`);
              if (!later) continue;
              expect(later.events, JSON.stringify({ raw, positions, bands: set })).toEqual([]);
            }
          },
        ),
        { numRuns: scaled(100, 400) },
      );
      expect(banded).toBeGreaterThan(10); // the property was exercised, not skipped
    });
  }
});
