/**
 * Builds the 2020-crash price paths for local mode and the tests:
 * - test/fixtures/crash-2020-ohlc.csv (date,instrument,open,high,low,close): `npm start`'s default, replayed
 *   intrabar;
 * - test/fixtures/crash-2020.csv (date,instrument,close): the same closes, for tests written on closes.
 * Instruments:
 * - SPY: real (dividend-adjusted) daily OHLC, Feb–Apr 2020;
 * - BTC-PERP: real BTC-USD daily OHLC (a spot index, used as the perpetual's mark price) on SPY's trading
 *   days (the weekend bars are left out so every bar moves every instrument);
 * - SH: DERIVED, closes only: the inverse (−1×) of SPY's daily return each day from 28.00 — SH's mandate.
 * Exact decimal arithmetic. `npx tsx scripts/build-crash-fixture.ts`.
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
const btc = new Map(
  readFileSync(join(dir, 'BTC-USD_2020-02_2020-04_daily.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','))
    .map((c) => [c[0]!, c.slice(1, 5)] as const),
);
const out = ['date,instrument,open,high,low,close'];
const closes = ['date,instrument,close'];
let sh = new Decimal('28');
const four = (v: string) => new Decimal(v).toFixed(4);
rows.forEach((cells, i) => {
  const [date, open, high, low, close] = cells as [string, string, string, string, string];
  if (i > 0) {
    const r = new Decimal(close).dividedBy(rows[i - 1]![4]!).minus(1);
    sh = sh.times(r.negated().plus(1));
  }
  const b = btc.get(date);
  if (!b) throw new Error(`no BTC-USD bar for ${date}`);
  out.push(
    `${date},SPY,${four(open)},${four(high)},${four(low)},${four(close)}`,
    `${date},SH,,,,${sh.toFixed(4)}`,
    `${date},BTC-PERP,${b.join(',')}`,
  );
  closes.push(`${date},SPY,${four(close)}`, `${date},SH,${sh.toFixed(4)}`, `${date},BTC-PERP,${b[3]}`);
});
writeFileSync(join(dir, 'crash-2020-ohlc.csv'), `${out.join('\n')}\n`);
writeFileSync(join(dir, 'crash-2020.csv'), `${closes.join('\n')}\n`);
console.log(`wrote ${out.length - 1} rows to each of crash-2020-ohlc.csv and crash-2020.csv`);
