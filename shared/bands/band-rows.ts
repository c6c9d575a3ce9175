import { Decimal } from '../decimal.ts';
import type { BandSet, PriceBand } from './price-bands.ts';

/**
 * What guard bands are stored as (plain data; band-keys.ts says how they are keyed):
 * - one row per (instrument, account) with a bound: its `low` and `high`, each indexed by price bucket, so
 *   a tick finds the bounds it moved across;
 * - an account that cannot be banded gets a row per held instrument with `low` = ALWAYS_LOW (every tick
 *   of the instrument finds it) and, unless its prices are stale, a watch row (the minute sweep finds it);
 * - one summary row per account (what its rows are, versioned), so the evaluator can diff without
 *   reading them and concurrent evaluators cannot interleave their rows.
 * The account's shard splits a busy price bucket over several keys (write throughput in a crash).
 */
export const ALWAYS_LOW = '1e30';

export interface StoredBand {
  low: string | null;
  high: string | null;
}

export interface BandSummary {
  accountId: string;
  version: number;
  /**
   * What the stored bands were proven for (the book and the tracked state, see bandBasis). While it is
   * unchanged and every price is still inside its stored band, the stored box as a whole is still proven.
   */
  basis: string;
  /** Why the account cannot be banded, or null. */
  always: string | null;
  /** Instruments that have a row, with what the row says. */
  rows: Record<string, StoredBand>;
  /**
   * priceTime of each price the bands were proven against (the evaluation's read): a queued evaluation
   * for ticks no newer than these has nothing left to find (a crash wave's later ticks re-find accounts
   * whose bands are not yet rewritten).
   */
  seen?: Record<string, string>;
}

/** The bands were proven against prices at least as new as every one of these ticks. */
export function ticksSeen(summary: BandSummary | null, ticks: Readonly<Record<string, string>>): boolean {
  const entries = Object.entries(ticks);
  return (
    summary !== null &&
    summary.always === null &&
    entries.length > 0 &&
    entries.every(([instrument, at]) => (summary.seen?.[instrument] ?? '') >= at)
  );
}

export interface BandRow {
  instrument: string;
  accountId: string;
  shard: number;
  low: string | null;
  high: string | null;
}

/**
 * Unbanded accounts the minute watch sweep evaluates. Not those with stale prices: nothing moves them
 * until a price comes back, and that tick finds their always-evaluate rows (overnight, when every equity
 * price is stale, watching them would evaluate every account every minute for nothing).
 */
export function watched(always: string | null): boolean {
  return always !== null && always !== 'stale-prices';
}

export interface BandWritePlan {
  accountId: string;
  shard: number;
  /** Version the summary must still have (0: must not exist). */
  expectedVersion: number;
  puts: BandRow[];
  deletes: string[];
  watch: { reason: string } | null;
  /** Delete the watch row (the account was on the watch list and is banded now). */
  unwatch: boolean;
  summary: BandSummary;
  /** The rows stored before (their bounds say which index items to delete or replace). */
  previous: Record<string, StoredBand>;
}

/** FNV-1a: a stable shard for an account, the same in every process and language. */
export function shardOf(accountId: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < accountId.length; i++) {
    hash ^= accountId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shards;
}

const edge = (d: Decimal | null) => (d === null ? null : d.toFixed());

/**
 * A fingerprint of what bands are proven for: the account item (cash, params, thresholds…), the
 * positions (prices live elsewhere) and the tracked level and margin-call state. Key order is normalised.
 */
export function bandBasis(
  account: unknown,
  positions: readonly unknown[],
  tracked: { level: string | null; inMarginCall: boolean },
): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
          )
        : v;
  const sorted = positions.map((p) => JSON.stringify(canonical(p))).sort();
  const text = JSON.stringify([canonical(account), sorted, tracked.level, tracked.inMarginCall]);
  // Two FNV-1a passes from different offsets: 64 bits, plenty to tell versions of one account apart.
  let a = 0x811c9dc5;
  let b = 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    a = Math.imul(a ^ text.charCodeAt(i), 0x01000193) >>> 0;
    b = Math.imul(b ^ text.charCodeAt(i), 0x01000193) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

/** Room between the price and a bound; no bound counts as the whole price (a halving or a doubling). */
function roomOf(bound: Decimal | null, price: Decimal, side: 'low' | 'high'): Decimal {
  if (bound === null) return price;
  return side === 'low' ? price.minus(bound) : bound.minus(price);
}

/**
 * The stored bound on one side, judged against the new band: it leaves the price strictly inside, keeps at
 * least half the room the new band has (a band that has become much narrower than it could be is
 * rewritten, else ticks would keep crossing it for nothing), and — when `withinFresh` — lies inside the
 * new band, so that the stored box stays within the newly proven one.
 */
function sideHolds(
  stored: string | null,
  fresh: Decimal | null,
  price: Decimal,
  side: 'low' | 'high',
  withinFresh: boolean,
): boolean {
  if (stored === null) return fresh === null;
  const s = new Decimal(stored);
  const room = roomOf(s, price, side);
  if (!room.greaterThan(0)) return false; // decimal.js counts 0 as positive: a bound at the price holds nothing
  if (withinFresh && fresh !== null && (side === 'low' ? s.lessThan(fresh) : s.greaterThan(fresh)))
    return false;
  return room.times(2).greaterThanOrEqualTo(roomOf(fresh, price, side));
}

function rowHolds(stored: StoredBand | undefined, band: PriceBand, withinFresh: boolean): boolean {
  if (!stored) return band.low === null && band.high === null;
  return (
    sideHolds(stored.low, band.low, band.price, 'low', withinFresh) &&
    sideHolds(stored.high, band.high, band.price, 'high', withinFresh)
  );
}

/**
 * What to write after an evaluation, or null when the stored rows still hold. `held` are the
 * instruments the account holds (for an unbanded account's rows).
 */
export function planBandWrite(
  accountId: string,
  stored: BandSummary | null,
  next: BandSet,
  held: readonly string[],
  shards: number,
  basis: string,
): BandWritePlan | null {
  const shard = shardOf(accountId, shards);
  // A stored band is proven only as part of its whole box. Same book, same tracked state, and every price
  // still inside its stored band: the stored box still holds, so every row may stay as it is. Otherwise
  // (a price has left the box, or the book or state changed) the old proof is void for every row, and a
  // row may only stay where it lies within the new band.
  const pinned = next.kind === 'banded' ? [...new Set(next.pinned ?? [])].sort() : [];
  const boxHolds =
    stored !== null &&
    stored.always === null &&
    stored.basis === basis &&
    next.kind === 'banded' &&
    next.bands.every((band) => rowHolds(stored.rows[band.instrument], band, false)) &&
    pinned.every((instrument) => stored.rows[instrument]?.low === ALWAYS_LOW);
  const before = stored?.rows ?? {};
  const rows: Record<string, StoredBand> = {};
  const puts: BandRow[] = [];
  if (next.kind === 'always') {
    for (const instrument of [...new Set(held)].sort()) {
      rows[instrument] = { low: ALWAYS_LOW, high: null };
      const old = before[instrument];
      if (old?.low !== ALWAYS_LOW || old.high !== null)
        puts.push({ instrument, accountId, shard, low: ALWAYS_LOW, high: null });
    }
  } else {
    // A pinned instrument (a stale price among fresh ones) keeps an always-evaluate row: any tick of it
    // evaluates the account; the other rows are bands.
    for (const instrument of pinned) {
      rows[instrument] = { low: ALWAYS_LOW, high: null };
      const old = before[instrument];
      if (old?.low !== ALWAYS_LOW || old.high !== null)
        puts.push({ instrument, accountId, shard, low: ALWAYS_LOW, high: null });
    }
    for (const band of next.bands) {
      if (pinned.includes(band.instrument)) continue;
      const old = before[band.instrument];
      if (boxHolds || (stored?.always === null && rowHolds(old, band, true))) {
        if (old) rows[band.instrument] = old;
        continue;
      }
      if (band.low === null && band.high === null) continue;
      const row = { low: edge(band.low), high: edge(band.high) };
      rows[band.instrument] = row;
      puts.push({ instrument: band.instrument, accountId, shard, ...row });
    }
  }
  const deletes = Object.keys(before)
    .filter((instrument) => !(instrument in rows))
    .sort();
  const always = next.kind === 'always' ? next.reason : null;
  const wasWatched = watched(stored?.always ?? null);
  const isWatched = watched(always);
  const reasonChanged = (stored?.always ?? null) !== always;
  const basisChanged = stored?.basis !== basis;
  if (stored && puts.length === 0 && deletes.length === 0 && !reasonChanged && !basisChanged) return null;
  return {
    accountId,
    shard,
    expectedVersion: stored?.version ?? 0,
    puts,
    deletes,
    watch: isWatched && reasonChanged ? { reason: always! } : null,
    unwatch: wasWatched && !isWatched,
    summary: { accountId, version: (stored?.version ?? 0) + 1, basis, always, rows },
    previous: before,
  };
}

/**
 * Every price strictly inside the band its stored row says (instruments without a row are unbounded; a
 * banded instrument without a price is not inside). For the evaluator's check of prices read after a write.
 * A pinned row (an always-evaluate row of an otherwise banded account) holds only while its price is the
 * one the bands were proven with: with `times` (each price's priceTime), a newer one is not inside.
 */
export function insideStoredBands(
  summary: BandSummary,
  prices: ReadonlyMap<string, Decimal>,
  times?: ReadonlyMap<string, string>,
): boolean {
  return Object.entries(summary.rows).every(([instrument, { low, high }]) => {
    const price = prices.get(instrument);
    if (price === undefined) return false;
    if (low === ALWAYS_LOW && summary.always === null && times && summary.seen)
      return (times.get(instrument) ?? '') <= (summary.seen[instrument] ?? '');
    return (
      (low === null || low === ALWAYS_LOW || price.greaterThan(low)) &&
      (high === null || price.lessThan(high))
    );
  });
}
