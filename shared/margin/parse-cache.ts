import { Decimal } from '../decimal.ts';
import type { Position } from '../schemas/position.ts';
import { parseEvaluationInput, type ValidatedInput } from './evaluate.ts';
import { recordTemplates } from './position-template.ts';

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

interface RawInput {
  account: unknown;
  positions: { price?: unknown; priceTime?: unknown; [key: string]: unknown }[];
}

/**
 * Validation with zod once per version of an account's stored data, not once per evaluation.
 *
 * A price tick re-evaluates the same account and positions with new prices. The account and positions
 * (everything but `price` and `priceTime`) are keyed by their JSON and validated by the full zod schemas
 * the first time; later evaluations reuse the parsed values and only check the new prices (a decimal
 * string above zero, an ISO-8601 time). Anything unexpected — a new version, a bad price — goes through
 * zod, so every bad field is still named exactly as before. Entries are evicted least recently used.
 */
export class ParsedInputCache {
  private readonly entries = new Map<string, ValidatedInput>();
  hits = 0;
  misses = 0;

  constructor(private readonly capacity = 10_000) {}

  parse(raw: unknown): ValidatedInput {
    const input = raw as RawInput;
    if (typeof raw !== 'object' || raw === null || !Array.isArray(input.positions))
      return parseEvaluationInput(raw);
    const prices: Decimal[] = [];
    const times: (string | undefined)[] = [];
    for (const p of input.positions) {
      const price = priceOf(p?.price);
      const time = p?.priceTime;
      if (price === null || (time !== undefined && !validTime(time))) return parseEvaluationInput(raw); // zod names the bad field
      prices.push(price);
      times.push(time as string | undefined);
    }
    const key = JSON.stringify([input.account, input.positions.map(withoutPrice)]);
    let template = this.entries.get(key);
    if (template) {
      this.hits += 1;
      this.entries.delete(key); // re-insert: most recently used last
    } else {
      this.misses += 1;
      template = parseEvaluationInput(raw);
      if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(key, template);
    const positions = template.positions.map((p, i): Position => withPrice(p, prices[i]!, times[i]));
    recordTemplates(positions, template.positions);
    return { account: template.account, positions };
  }
}

/** The key leaves out what changes on every tick. */
function withoutPrice(position: RawInput['positions'][number]): unknown {
  const { price: _price, priceTime: _time, ...rest } = position;
  return rest;
}

/** A decimal string above zero, as zod's positiveDecimal reads it; null for anything else. */
function priceOf(price: unknown): Decimal | null {
  if (typeof price !== 'string') return null;
  let value = recentPrices.get(price);
  if (value === undefined) {
    const trimmed = price.trim();
    if (!DECIMAL.test(trimmed)) return null;
    value = new Decimal(trimmed);
    if (recentPrices.size >= RECENT_PRICES) recentPrices.clear();
    recentPrices.set(price, value);
  }
  return value.greaterThan(0) ? value : null;
}

/**
 * Prices are per instrument, so in a sweep every holder of an instrument brings the same price string:
 * it is parsed once (Decimals are immutable, so one instance serves them all). Cleared when full: a
 * tick's prices are what matter.
 */
const recentPrices = new Map<string, Decimal>();
const RECENT_PRICES = 10_000;

function validTime(time: unknown): boolean {
  return typeof time === 'string' && DATE_TIME.test(time) && !Number.isNaN(Date.parse(time));
}

function withPrice(position: Position, price: Decimal, priceTime: string | undefined): Position {
  if (priceTime === undefined && position.priceTime !== undefined) {
    const { priceTime: _old, ...rest } = position;
    return { ...rest, price };
  }
  // Overwriting keys the template already has keeps its shape: a tenth of the cost of a rest copy.
  const repriced = { ...position, price };
  if (priceTime !== undefined) repriced.priceTime = priceTime;
  return repriced;
}
