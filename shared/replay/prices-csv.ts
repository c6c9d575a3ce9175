import { Decimal } from '../decimal.ts';
import { InputError, type FieldIssue } from '../errors.ts';

/** A bar's open, high, low and close: the price moved within [low, high] during the bar. */
export interface Ohlc {
  open: Decimal;
  high: Decimal;
  low: Decimal;
  close: Decimal;
}

/**
 * One bar: the closing price of every instrument that traded on that date, and, for instruments given
 * as OHLC, the bar's range (intrabar replay checks the adverse extreme, not just the close).
 */
export interface PriceBar {
  date: string;
  closes: Map<string, Decimal>;
  ohlc?: Map<string, Ohlc>;
}

const DECIMAL = /^[+]?(\d+(\.\d*)?|\.\d+)$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Reads a price path. Two shapes:
 * - long: `date,instrument,close` or `date,instrument,open,high,low,close` (other columns ignored), any
 *   number of instruments; a row may leave open/high/low empty (that instrument is closes-only);
 * - one instrument's OHLC: `date,open,high,low,close[,volume]`, named by `instrument`.
 * Every bad cell is reported as `SOURCE line N, column C: problem`; a range that does not hold its open
 * and close (low ≤ open, close ≤ high) is bad too.
 */
export function parsePricesCsv(text: string, source: string, instrument?: string): PriceBar[] {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const header = (lines[0] ?? '').split(',').map((h) => h.trim().toLowerCase());
  const col = (name: string) => header.indexOf(name);
  const [dateCol, closeCol, instrumentCol] = [col('date'), col('close'), col('instrument')];
  const rangeCols = { open: col('open'), high: col('high'), low: col('low') };
  const hasRange = rangeCols.open >= 0 && rangeCols.high >= 0 && rangeCols.low >= 0;
  const issues: FieldIssue[] = [];
  if (dateCol < 0 || closeCol < 0) {
    throw InputError.single(
      `${source} line 1`,
      'expected a header with date and close columns (and instrument, or one instrument’s OHLC)',
    );
  }
  if (instrumentCol < 0 && !instrument) {
    throw InputError.single(
      `${source} line 1`,
      'no instrument column: name the instrument of this OHLC file (--instrument)',
    );
  }
  const bars = new Map<string, { closes: Map<string, Decimal>; ohlc: Map<string, Ohlc> }>();
  lines.slice(1).forEach((line, i) => {
    if (line === '') return;
    const cells = line.split(',').map((c) => c.trim());
    const where = (column: string) => `${source} line ${i + 2}, column ${column}`;
    const price = (column: string, text: string): Decimal | null => {
      if (!DECIMAL.test(text)) {
        issues.push({
          field: where(column),
          message: `expected a positive decimal, got ${JSON.stringify(text)}`,
        });
        return null;
      }
      const d = new Decimal(text);
      if (d.isZero()) {
        issues.push({ field: where(column), message: 'a price must be greater than 0' });
        return null;
      }
      return d;
    };
    const date = cells[dateCol] ?? '';
    const name = instrumentCol >= 0 ? (cells[instrumentCol] ?? '') : instrument!;
    if (!DATE.test(date) || Number.isNaN(Date.parse(date)))
      issues.push({ field: where('date'), message: `expected YYYY-MM-DD, got ${JSON.stringify(date)}` });
    if (name === '') issues.push({ field: where('instrument'), message: 'missing' });
    const close = price('close', cells[closeCol] ?? '');
    if (!close) return;
    const bar = bars.get(date) ?? { closes: new Map(), ohlc: new Map() };
    if (bar.closes.has(name))
      issues.push({ field: where('date'), message: `a second ${name} price for ${date}` });
    bar.closes.set(name, close);
    bars.set(date, bar);
    if (!hasRange) return;
    const raw = {
      open: cells[rangeCols.open] ?? '',
      high: cells[rangeCols.high] ?? '',
      low: cells[rangeCols.low] ?? '',
    };
    if (raw.open === '' && raw.high === '' && raw.low === '') return; // closes-only instrument
    const [open, high, low] = (['open', 'high', 'low'] as const).map((c) => price(c, raw[c]));
    if (!open || !high || !low) return;
    if (
      low.greaterThan(Decimal.min(open, close)) ||
      high.lessThan(Decimal.max(open, close)) ||
      low.greaterThan(high)
    ) {
      issues.push({
        field: where('low'),
        message: `the range ${low.toFixed()}–${high.toFixed()} must hold the open ${open.toFixed()} and the close ${close.toFixed()}`,
      });
      return;
    }
    bar.ohlc.set(name, { open, high, low, close });
  });
  if (issues.length > 0) throw new InputError(issues);
  if (bars.size === 0) throw InputError.single(source, 'no price rows');
  return [...bars.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([date, { closes, ohlc }]) => ({ date, closes, ...(ohlc.size > 0 ? { ohlc } : {}) }));
}
