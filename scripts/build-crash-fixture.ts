/**
 * Builds test/fixtures/crash-2020.csv (date,instrument,close) for local mode from the real SPY closes:
 * - SPY: real (dividend-adjusted) daily closes, Feb–Apr 2020;
 * - SH: DERIVED, the inverse (−1×) of SPY's daily return each day from 28.00 — what SH's mandate is;
 * - BTC-PERP: DERIVED and illustrative, 2.5× SPY's daily return from 9,500 (crypto fell harder in March 2020).
 * Exact decimal arithmetic, rounded to 4 places. `npx tsx scripts/build-crash-fixture.ts`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Decimal } from '../shared/decimal.ts';

const dir = join(import.meta.dirname, '..', 'test', 'fixtures');
const rows = readFileSync(join(dir, 'SPY_2020-02_2020-04_daily.csv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split(','));
const out = ['date,instrument,close'];
let sh = new Decimal('28');
let btc = new Decimal('9500');
rows.forEach((cells, i) => {
  const [date, , , , close] = cells as [string, string, string, string, string];
  if (i > 0) {
    const r = new Decimal(close).dividedBy(rows[i - 1]![4]!).minus(1);
    sh = sh.times(r.negated().plus(1));
    btc = btc.times(r.times('2.5').plus(1));
  }
  out.push(
    `${date},SPY,${new Decimal(close).toFixed(4)}`,
    `${date},SH,${sh.toFixed(4)}`,
    `${date},BTC-PERP,${btc.toFixed(4)}`,
  );
});
writeFileSync(join(dir, 'crash-2020.csv'), `${out.join('\n')}\n`);
console.log(`wrote ${out.length - 1} rows`);
