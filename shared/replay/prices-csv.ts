import { Decimal } from '../decimal.ts';
import { InputError, type FieldIssue } from '../errors.ts';

/** One bar: the closing price of every instrument that traded on that date. */
export interface PriceBar {
  date: string;
  closes: Map<string, Decimal>;
}

const DECIMAL = /^[+]?(\d+(\.\d*)?|\.\d+)$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Reads a price path. Two shapes:
 * - long: `date,instrument,close` (other columns ignored), any number of instruments;
 * - one instrument's OHLC: `date,open,high,low,close[,volume]`, named by `instrument`.
 * Every bad cell is reported as `SOURCE line N, column C: problem`.
 */
export function parsePricesCsv(text: string, source: string, instrument?: string): PriceBar[] {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const header = (lines[0] ?? '').split(',').map((h) => h.trim().toLowerCase());
  const col = (name: string) => header.indexOf(name);
  const [dateCol, closeCol, instrumentCol] = [col('date'), col('close'), col('instrument')];
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
  const bars = new Map<string, Map<string, Decimal>>();
  lines.slice(1).forEach((line, i) => {
    if (line === '') return;
    const cells = line.split(',').map((c) => c.trim());
    const where = (column: string) => `${source} line ${i + 2}, column ${column}`;
    const date = cells[dateCol] ?? '';
    const close = cells[closeCol] ?? '';
    const name = instrumentCol >= 0 ? (cells[instrumentCol] ?? '') : instrument!;
    if (!DATE.test(date) || Number.isNaN(Date.parse(date)))
      issues.push({ field: where('date'), message: `expected YYYY-MM-DD, got ${JSON.stringify(date)}` });
    if (name === '') issues.push({ field: where('instrument'), message: 'missing' });
    if (!DECIMAL.test(close))
      issues.push({
        field: where('close'),
        message: `expected a positive decimal, got ${JSON.stringify(close)}`,
      });
    else if (new Decimal(close).isZero())
      issues.push({ field: where('close'), message: 'a price must be greater than 0' });
    else {
      const bar = bars.get(date) ?? new Map<string, Decimal>();
      if (bar.has(name)) issues.push({ field: where('date'), message: `a second ${name} price for ${date}` });
      bar.set(name, new Decimal(close));
      bars.set(date, bar);
    }
  });
  if (issues.length > 0) throw new InputError(issues);
  if (bars.size === 0) throw InputError.single(source, 'no price rows');
  return [...bars.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([date, closes]) => ({ date, closes }));
}
