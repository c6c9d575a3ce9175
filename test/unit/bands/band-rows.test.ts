import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ALWAYS_LOW,
  bandBasis,
  planBandWrite,
  shardOf,
  type BandSummary,
} from '../../../shared/bands/band-rows.ts';
import type { BandSet, PriceBand } from '../../../shared/bands/price-bands.ts';
import { Decimal } from '../../../shared/decimal.ts';

const band = (instrument: string, price: string, low: string | null, high: string | null): PriceBand => ({
  instrument,
  price: new Decimal(price),
  low: low === null ? null : new Decimal(low),
  high: high === null ? null : new Decimal(high),
});
const banded = (...bands: PriceBand[]): BandSet => ({ kind: 'banded', bands });
const BASIS = 'book-v1';
const summary = (rows: BandSummary['rows'], always: string | null = null, version = 3): BandSummary => ({
  accountId: 'A1',
  version,
  basis: BASIS,
  always,
  rows,
});

describe('band rows: what an evaluation writes', () => {
  it('first write: a row per bounded instrument, none for an unbounded one, summary version 1', () => {
    const plan = planBandWrite(
      'A1',
      null,
      banded(band('X', '100', '80', null), band('Y', '10', null, null)),
      ['X', 'Y'],
      4,
      BASIS,
    )!;
    expect(plan.expectedVersion).toBe(0);
    expect(plan.puts).toEqual([
      { instrument: 'X', accountId: 'A1', shard: shardOf('A1', 4), low: '80', high: null },
    ]);
    expect(plan.summary).toEqual({
      accountId: 'A1',
      version: 1,
      basis: BASIS,
      always: null,
      rows: { X: { low: '80', high: null } },
    });
    expect(plan).toMatchObject({ deletes: [], watch: null, unwatch: false });
  });

  it('nothing to write when the stored rows are inside the new bands and keep at least half the room', () => {
    const stored = summary({ X: { low: '80', high: '120' } });
    expect(planBandWrite('A1', stored, banded(band('X', '101', '75', '125')), ['X'], 4, BASIS)).toBeNull();
  });

  it('rewrites a row the price has left, a row wider than a new band proven for another book, and a row far narrower', () => {
    const stored = summary({ X: { low: '80', high: '120' } });
    // crossed: the price is at the old low
    expect(
      planBandWrite('A1', stored, banded(band('X', '80', '70', '90')), ['X'], 4, BASIS)!.puts,
    ).toHaveLength(1);
    // The book or the tracked state changed: the stored row is proven for something else and must lie inside
    // the new band; under the same basis it stays proven wherever the new allocation puts the edge.
    const narrower = banded(band('X', '100', '85', '120'));
    expect(planBandWrite('A1', stored, narrower, ['X'], 4, 'book-v2')!.puts).toHaveLength(1);
    expect(planBandWrite('A1', stored, narrower, ['X'], 4, BASIS)).toBeNull();
    // a subset, but keeping 20 of 50 below: rewritten to use the room
    const wider = planBandWrite('A1', stored, banded(band('X', '100', '50', '120')), ['X'], 4, BASIS)!;
    expect(wider.puts[0]).toMatchObject({ low: '50', high: '120' });
    expect(wider.expectedVersion).toBe(3);
  });

  it('an unbounded side must stay unbounded, or the stored bound keep at least half the price as room', () => {
    const stored = summary({ X: { low: '40', high: null } });
    expect(planBandWrite('A1', stored, banded(band('X', '100', null, null)), ['X'], 4, BASIS)).toBeNull();
    const near = summary({ X: { low: '90', high: null } });
    expect(planBandWrite('A1', near, banded(band('X', '100', null, null)), ['X'], 4, BASIS)!.deletes).toEqual(
      ['X'],
    );
  });

  it('an account that cannot be banded: a row per held instrument that every tick finds, and the watch list', () => {
    const plan = planBandWrite(
      'A1',
      summary({ X: { low: '80', high: null } }),
      { kind: 'always', reason: 'no room: stays above warning' },
      ['X', 'Y'],
      4,
      BASIS,
    )!;
    expect(plan.puts.map((p) => [p.instrument, p.low, p.high])).toEqual([
      ['X', ALWAYS_LOW, null],
      ['Y', ALWAYS_LOW, null],
    ]);
    expect(plan.watch).toEqual({ reason: 'no room: stays above warning' });
    // Still unbanded next time: nothing new to write.
    const noRoom = { kind: 'always', reason: 'no room: stays above warning' } as const;
    expect(planBandWrite('A1', plan.summary, noRoom, ['X', 'Y'], 4, BASIS)).toBeNull();
    // Gone stale (overnight): the rows stay, but it leaves the minute watch list; ticks still find it.
    const stale = planBandWrite(
      'A1',
      plan.summary,
      { kind: 'always', reason: 'stale-prices' },
      ['X', 'Y'],
      4,
      BASIS,
    )!;
    expect(stale).toMatchObject({ puts: [], watch: null, unwatch: true });
  });

  it('back to banded: every row rewritten, off the watch list, rows of instruments no longer held deleted', () => {
    const stored = summary(
      { X: { low: ALWAYS_LOW, high: null }, Y: { low: ALWAYS_LOW, high: null } },
      'missing-prices',
    );
    const plan = planBandWrite('A1', stored, banded(band('X', '100', '80', null)), ['X'], 4, BASIS)!;
    expect(plan.puts).toEqual([
      { instrument: 'X', accountId: 'A1', shard: shardOf('A1', 4), low: '80', high: null },
    ]);
    expect(plan.deletes).toEqual(['Y']);
    expect(plan).toMatchObject({ watch: null, unwatch: true });
  });

  it('the basis changes with the book and the tracked state, not with key order', () => {
    const account = { accountId: 'A1', model: 'reg-t', cash: '-1000' };
    const positions = [
      { accountId: 'A1', instrument: 'X', quantity: '10' },
      { accountId: 'A1', instrument: 'Y', quantity: '5' },
    ];
    const safe = { level: 'SAFE', inMarginCall: false };
    const basis = bandBasis(account, positions, safe);
    expect(
      bandBasis({ cash: '-1000', model: 'reg-t', accountId: 'A1' }, [...positions].reverse(), safe),
    ).toBe(basis);
    expect(bandBasis({ ...account, cash: '-1001' }, positions, safe)).not.toBe(basis);
    expect(bandBasis(account, [positions[0]!, { ...positions[1]!, quantity: '6' }], safe)).not.toBe(basis);
    expect(bandBasis(account, positions, { level: 'WARNING', inMarginCall: false })).not.toBe(basis);
    expect(bandBasis(account, positions, { level: 'SAFE', inMarginCall: true })).not.toBe(basis);
  });

  it('shards are stable and in range', () => {
    expect(shardOf('A1', 16)).toBe(shardOf('A1', 16));
    const shards = new Set(Array.from({ length: 1000 }, (_, i) => shardOf(`ACC${i}`, 16)));
    expect([...shards].every((s) => s >= 0 && s < 16)).toBe(true);
    expect(shards.size).toBe(16);
  });
});

describe('band rows (property): the stored box is always a proven one', () => {
  // Bounds in half-units from each price (X at 200, Y at 100): a stored band may or may not contain today's price.
  const bound = fc.option(fc.integer({ min: 1, max: 399 }), { freq: 4 });
  const rowArb = fc.record({ low: bound, high: bound });
  const freshArb = fc.record({ low: fc.option(fc.integer({ min: 1, max: 199 }), { freq: 4 }), high: bound });
  const lowOf = (price: number, n: number | null) =>
    n === null ? null : new Decimal(n).dividedBy(400).times(price);
  const highOf = (price: number, n: number | null) =>
    n === null ? null : new Decimal(price).plus(new Decimal(n).dividedBy(400).times(price));
  it('after any plan: either the unchanged stored box (same basis, every price inside it) or a box inside the fresh one', () => {
    fc.assert(
      fc.property(
        fc.tuple(rowArb, rowArb),
        fc.tuple(freshArb, freshArb),
        fc.boolean(),
        fc.boolean(),
        (olds, freshes, sameBasis, wasAlways) => {
          const prices = { X: 200, Y: 100 };
          const names = ['X', 'Y'] as const;
          // Stored lows sit anywhere from 0 to 2× the price: the price may already have left them.
          const storedRows = Object.fromEntries(
            names.map((n, k) => [
              n,
              {
                low:
                  olds[k]!.low === null
                    ? null
                    : new Decimal(olds[k]!.low!).dividedBy(200).times(prices[n]).toFixed(),
                high: highOf(prices[n], olds[k]!.high)?.toFixed() ?? null,
              },
            ]),
          );
          const stored = summary(
            wasAlways
              ? { X: { low: ALWAYS_LOW, high: null }, Y: { low: ALWAYS_LOW, high: null } }
              : storedRows,
            wasAlways ? 'missing-prices' : null,
          );
          const fresh = names.map((n, k) =>
            band(
              n,
              String(prices[n]),
              lowOf(prices[n], freshes[k]!.low)?.toFixed() ?? null,
              highOf(prices[n], freshes[k]!.high)?.toFixed() ?? null,
            ),
          );
          const plan = planBandWrite(
            'A1',
            stored,
            banded(...fresh),
            ['X', 'Y'],
            4,
            sameBasis ? BASIS : 'book-v2',
          );
          const rows = (plan ? plan.summary : stored).rows;
          const inside = (row: { low: string | null; high: string | null } | undefined, price: number) =>
            !row ||
            ((row.low === null || new Decimal(price).greaterThan(row.low)) &&
              (row.high === null || new Decimal(price).lessThan(row.high)));
          const storedBoxHeld =
            sameBasis && !wasAlways && names.every((n) => inside(storedRows[n], prices[n]));
          const unchanged = JSON.stringify(rows) === JSON.stringify(storedRows);
          const withinFresh = names.every((n, k) => {
            const row = rows[n];
            const f = fresh[k]!;
            if (!row) return f.low === null && f.high === null;
            const low = row.low === null ? null : new Decimal(row.low);
            const high = row.high === null ? null : new Decimal(row.high);
            return (
              (f.low === null || (low !== null && low.greaterThanOrEqualTo(f.low))) &&
              (f.high === null || (high !== null && high.lessThanOrEqualTo(f.high)))
            );
          });
          expect((storedBoxHeld && unchanged) || withinFresh).toBe(true);
          // Whatever is stored leaves every price strictly inside it.
          for (const n of names) expect(inside(rows[n], prices[n])).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
