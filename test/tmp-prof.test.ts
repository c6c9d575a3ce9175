import fc from 'fast-check';
import { it } from 'vitest';
import { ParsedInputCache } from '../shared/margin/parse-cache.ts';
import { fixedPoint } from './helpers/arbitraries.ts';
import { bookArb, sameAsReference } from './helpers/fast-summary-books.ts';
it('prof', () => {
  const cache = new ParsedInputCache(1000);
  const samples = fc.sample(fc.tuple(bookArb('reg-t'), fc.array(fixedPoint(100, 99_999_999, 4), { minLength: 1, maxLength: 5 })), 2000);
  const t = performance.now();
  for (const [raw, tick] of samples) sameAsReference(raw, tick, cache);
  console.log('compare ms/case', (performance.now() - t) / 2000);
});
