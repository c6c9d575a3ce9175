import { Decimal } from '../decimal.ts';
import { ALWAYS_LOW, shardOf, type StoredBand } from './band-rows.ts';

/**
 * The band index's keys (plain data; the DynamoDB adapter and the in-memory ones share them).
 *
 * A tick must find the accounts whose bound lies between the previous price and the new one, and a crash
 * rewrites hundreds of thousands of one instrument's bounds at once. So bounds are keyed by **price
 * bucket** on the base table, with no local index (an LSI pins every item of a partition key to one
 * partition, 1,000 WCU/s): a crash's rewrites spread over every bucket the new bounds fall in, and a tick
 * reads only the buckets it moved across, each range-limited to the crossed rows.
 *
 * - a lower bound: partition `l#<instrument>#<bucket>#<sub>`, sort `<enc(low)>#<accountId>`;
 * - an upper bound: partition `h#<instrument>#<bucket>#<sub>`, sort `<enc(high)>#<accountId>`;
 * - an unbanded account's row: partition `x#<instrument>`, sort `<accountId>` (every tick reads it);
 * - the summary: partition `a#<accountId>`, sort `s`; the watch list: partition `w#<shard>`, sort
 *   `<accountId>`.
 *
 * `enc` is an order-preserving text form of a positive decimal (a biased exponent, then the significant
 * digits), so DynamoDB's byte order on the sort key is numeric order; a bucket is `enc` truncated to the
 * exponent and the first BUCKET_DIGITS digits (a relative width of 0.1%–1%), so buckets are monotone in
 * the price. `sub` (the account's shard) splits one bucket over several keys when many accounts' bounds
 * fall in it.
 *
 * The index may be **striped** over several tables (each on-demand table has its own write quota, and in
 * a crash the band rewrites are what binds it): an account's summary, watch entry and bound items live in
 * stripe `shard mod stripes`; every unbanded row lives in stripe 0, so a tick still reads one `x#`
 * partition. See stripeOf.
 */
export const BUCKET_DIGITS = 3;

/** Exponents are stored biased by this, as three digits (bounds live far inside 1e-499..1e499). */
const EXPONENT_BIAS = 500;

/**
 * A tick that moved across more buckets than this (a price off by orders of magnitude) is fanned out to
 * every holder through the holdings index instead: bounded work either way.
 */
export const MAX_BUCKETS_PER_TICK = 256;

/** Order-preserving text of a positive decimal: `enc(a) < enc(b)` (bytewise) exactly when a < b. */
export function encodeBound(value: Decimal | string): string {
  const d = new Decimal(value);
  if (!d.isFinite() || !d.isPositive() || d.isZero()) throw new RangeError(`not a positive bound: ${value}`);
  const exponent = d.e + EXPONENT_BIAS;
  if (exponent < 0 || exponent > 999) throw new RangeError(`bound out of the index's range: ${value}`);
  const digits = d.toFixed().replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return String(exponent).padStart(3, '0') + digits;
}

/** The bucket a positive price or bound falls in (the exponent and the first BUCKET_DIGITS digits). */
export function bucketOf(value: Decimal | string): string {
  const encoded = encodeBound(value);
  return encoded.slice(0, 3) + encoded.slice(3, 3 + BUCKET_DIGITS).padEnd(BUCKET_DIGITS, '0');
}

/** The smallest value in a bucket. */
function bucketFloor(bucket: string): Decimal {
  const exponent = Number(bucket.slice(0, 3)) - EXPONENT_BIAS;
  return new Decimal(`${bucket[3]}.${bucket.slice(4)}e${exponent}`);
}

/**
 * Every bucket from the one holding `from` to the one holding `to` (from ≤ to), in order; null when there
 * are more than MAX_BUCKETS_PER_TICK.
 */
export function bucketsBetween(from: Decimal | string, to: Decimal | string): string[] | null {
  const last = bucketOf(to);
  const buckets: string[] = [];
  let bucket = bucketOf(from);
  while (bucket <= last) {
    if (buckets.length === MAX_BUCKETS_PER_TICK) return null;
    buckets.push(bucket);
    const floor = bucketFloor(bucket);
    // One step of the bucket's last digit; crossing into the next power of ten re-keys the exponent.
    bucket = bucketOf(floor.plus(new Decimal(10).pow(floor.e - BUCKET_DIGITS + 1)));
  }
  return buckets;
}

export type BoundSide = 'low' | 'high';

export const boundPartition = (side: BoundSide, instrument: string, bucket: string, sub: number) =>
  `${side === 'low' ? 'l' : 'h'}#${instrument}#${bucket}#${sub}`;
export const alwaysPartition = (instrument: string) => `x#${instrument}`;
export const summaryKey = (accountId: string) => ({ partition: `a#${accountId}`, sk: 's' });
export const watchPartition = (shard: number) => `w#${shard}`;

/** A bound or unbanded-row partition (not a summary or the watch list). */
export const isIndexPartition = (partition: string) => /^[lhx]#/.test(partition);

/** The account id of a bound item's sort key (`<enc>#<accountId>`; an encoded bound has no `#`). */
export const accountOfBoundKey = (sk: string) => sk.slice(sk.indexOf('#') + 1);

/**
 * The stripe (table) an item of the index lives in: bound items by the sub-key at the end of their
 * partition, watch entries by their shard, summaries by their account's shard; unbanded rows in stripe 0.
 */
export function stripeOf(partition: string, stripes: number, shards: number): number {
  if (stripes === 1 || partition.startsWith('x#')) return 0;
  if (partition.startsWith('a#')) return shardOf(partition.slice(2), shards) % stripes;
  const sub = Number(partition.slice(partition.lastIndexOf('#') + 1));
  if (!Number.isInteger(sub)) throw new RangeError(`not a band-index partition: ${partition}`);
  return sub % stripes;
}

/** One stored item of the band index. */
export interface BandItemKey {
  partition: string;
  sk: string;
}

/** The items that store one account's row for one instrument. */
export function rowItemKeys(
  instrument: string,
  accountId: string,
  sub: number,
  row: StoredBand,
): BandItemKey[] {
  if (row.low === ALWAYS_LOW) return [{ partition: alwaysPartition(instrument), sk: accountId }];
  const keys: BandItemKey[] = [];
  for (const side of ['low', 'high'] as const) {
    const bound = row[side];
    if (bound === null) continue;
    keys.push({
      partition: boundPartition(side, instrument, bucketOf(bound), sub),
      sk: `${encodeBound(bound)}#${accountId}`,
    });
  }
  return keys;
}

/** One range query of the band index: a partition and the sort-key condition a tick reads it with. */
export interface BandQuery {
  partition: string;
  /** `sk >= from` (lower bounds at or above the new price), `sk < below` (upper bounds at or below it). */
  from?: string;
  below?: string;
}

/**
 * The queries that find every account whose band a tick crossed. The instrument's price went to `price`
 * from prices that reached up to `highest` and down to `lowest` since the previous tick was handled (the
 * stream's old images): a lower bound at or above `price` that was not already crossed lies in
 * [price, highest]; an upper bound at or below `price`, in [lowest, price]. Null when the move spans more
 * than MAX_BUCKETS_PER_TICK buckets (fan out to every holder instead).
 */
export function crossingQueries(
  instrument: string,
  price: Decimal | string,
  lowest: Decimal | string,
  highest: Decimal | string,
  subs: number,
): BandQuery[] | null {
  const p = new Decimal(price);
  const downTo = Decimal.min(p, lowest);
  const upTo = Decimal.max(p, highest);
  const lows = bucketsBetween(p, upTo);
  const highs = bucketsBetween(downTo, p);
  if (lows === null || highs === null || lows.length + highs.length > MAX_BUCKETS_PER_TICK) return null;
  const enc = encodeBound(p);
  const queries: BandQuery[] = [{ partition: alwaysPartition(instrument) }];
  for (let sub = 0; sub < subs; sub++) {
    for (const bucket of lows)
      queries.push({ partition: boundPartition('low', instrument, bucket, sub), from: enc });
    // `$` sorts just above the `#` that ends every encoded bound: sk < enc(p)$ is exactly high ≤ p.
    for (const bucket of highs)
      queries.push({ partition: boundPartition('high', instrument, bucket, sub), below: `${enc}$` });
  }
  return queries;
}
