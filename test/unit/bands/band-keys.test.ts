import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accountOfBoundKey,
  bucketOf,
  bucketsBetween,
  crossingQueries,
  encodeBound,
  MAX_BUCKETS_PER_TICK,
  rowItemKeys,
  stripeOf,
  summaryKey,
  watchPartition,
} from '../../../shared/bands/band-keys.ts';
import { ALWAYS_LOW, shardOf } from '../../../shared/bands/band-rows.ts';
import { Decimal } from '../../../shared/decimal.ts';

/** Positive decimals from 1e-8 to 1e8 with up to 12 significant digits, as bounds are stored. */
const positive = fc
  .tuple(fc.integer({ min: 1, max: 999_999_999_999 }), fc.integer({ min: -20, max: 8 }))
  .map(([digits, exponent]) =>
    new Decimal(digits).times(new Decimal(10).pow(exponent)).toSignificantDigits(12),
  );

describe('band keys', () => {
  it('worked examples: the encoding and the bucket of a few prices', () => {
    expect(encodeBound('249.4649')).toBe('5022494649'); // exponent 2 + 500, then the digits
    expect(encodeBound('0.05')).toBe('4985');
    expect(bucketOf('249.4649')).toBe('502249');
    expect(bucketOf('7')).toBe('500700');
    expect(bucketsBetween('9.98', '10.01')).toEqual(['500998', '500999', '501100']);
  });

  it('the encoding preserves order bytewise, and buckets are monotone', () => {
    fc.assert(
      fc.property(positive, positive, (a, b) => {
        const [ea, eb] = [encodeBound(a), encodeBound(b)];
        expect(Math.sign(ea < eb ? -1 : ea > eb ? 1 : 0)).toBe(a.comparedTo(b));
        if (a.lessThanOrEqualTo(b)) expect(bucketOf(a) <= bucketOf(b)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('a tick’s queries find exactly the bounds it moved across (brute force over random bounds)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(positive, fc.boolean()), { minLength: 1, maxLength: 40 }),
        fc.double({ min: 0.9, max: 1.1, noNaN: true }),
        fc.double({ min: 0.97, max: 1.03, noNaN: true }),
        (bounds, scale, wobble) => {
          const stored = new Map<string, Set<string>>();
          bounds.forEach(([bound, isLow], i) => {
            const row = isLow ? { low: bound.toFixed(), high: null } : { low: null, high: bound.toFixed() };
            for (const k of rowItemKeys('X', `A${i}`, i % 3, row)) {
              const set = stored.get(k.partition) ?? new Set<string>();
              stored.set(k.partition, set.add(k.sk));
            }
          });
          // The price moved from `was` to `price`, touching `other` on the way.
          const was = bounds[0]![0];
          const price = was.times(scale.toFixed(6)).toSignificantDigits(12);
          const other = was.times(wobble.toFixed(6)).toSignificantDigits(12);
          const lowest = Decimal.min(was, price, other);
          const highest = Decimal.max(was, price, other);
          const queries = crossingQueries('X', price, lowest, highest, 3);
          if (queries === null) return; // too many buckets: the caller fans out to every holder
          const found = new Set<string>();
          for (const q of queries)
            for (const sk of stored.get(q.partition) ?? [])
              if ((q.from === undefined || sk >= q.from) && (q.below === undefined || sk < q.below))
                found.add(accountOfBoundKey(sk));
          // Crossed: a lower bound in [price, highest] (it was above a price seen, now at or above the
          // price), an upper bound in [lowest, price]. Every one must be found; the only others found are
          // bounds already crossed before, in the same bucket as the range's far end (reads are by bucket).
          const all = bounds.map(([bound, isLow], i) => ({ bound, isLow, id: `A${i}` }));
          const crossed = all.filter(({ bound, isLow }) =>
            isLow
              ? bound.greaterThanOrEqualTo(price) && bound.lessThanOrEqualTo(highest)
              : bound.lessThanOrEqualTo(price) && bound.greaterThanOrEqualTo(lowest),
          );
          const sameBucketBeyond = all.filter(({ bound, isLow }) =>
            isLow
              ? bound.greaterThan(highest) && bucketOf(bound) === bucketOf(highest)
              : bound.lessThan(lowest) && bucketOf(bound) === bucketOf(lowest),
          );
          for (const { id } of crossed) expect(found).toContain(id);
          const allowed = new Set([...crossed, ...sameBucketBeyond].map((b) => b.id));
          for (const id of found) expect(allowed).toContain(id);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a move across more than MAX_BUCKETS_PER_TICK buckets asks for a fan-out instead', () => {
    expect(crossingQueries('X', '1', '1', '50', 4)).toBeNull();
    expect(bucketsBetween('100', '125.5')!.length).toBeLessThanOrEqual(MAX_BUCKETS_PER_TICK);
  });

  it('stripes: an account’s summary, watch entry and bounds share its stripe; unbanded rows live in the first', () => {
    for (const id of ['A1', 'B22', 'C333', 'D4444']) {
      const shard = shardOf(id, 8);
      const stripe = shard % 4;
      expect(stripeOf(summaryKey(id).partition, 4, 8)).toBe(stripe);
      expect(stripeOf(watchPartition(shard), 4, 8)).toBe(stripe);
      for (const k of rowItemKeys('SPY', id, shard, { low: '100', high: '200' }))
        expect(stripeOf(k.partition, 4, 8)).toBe(stripe);
      const [always] = rowItemKeys('SPY', id, shard, { low: ALWAYS_LOW, high: null });
      expect(stripeOf(always!.partition, 4, 8)).toBe(0);
      expect(stripeOf(summaryKey(id).partition, 1, 8)).toBe(0);
    }
  });
});
