import { Decimal } from '../decimal.ts';
import type { BandSet, PriceBand } from './price-bands.ts';

/**
 * How guard bands are stored (plain data; the adapter maps it to DynamoDB):
 * - one row per (instrument, account) with a bound, in partition `instrument#shard`, with `low` and/or
 *   `high` as numeric sort keys of two local indexes; a tick queries low ≥ price and high ≤ price;
 * - an account that cannot be banded gets a row per held instrument with `low` = ALWAYS_LOW (every tick
 *   finds it) and a watch row in `watch#shard` (the minute sweep finds it);
 * - one summary row per account (what its rows are, versioned), so the evaluator can diff without
 *   reading them and concurrent evaluators cannot interleave their rows.
 * Shards spread one instrument's holders over partitions (write throughput in a crash).
 */
export const ALWAYS_LOW = '1e30';

export interface StoredBand {
  low: string | null;
  high: string | null;
}

export interface BandSummary {
  accountId: string;
  version: number;
  /** Why the account cannot be banded, or null. */
  always: string | null;
  /** Instruments that have a row, with what the row says. */
  rows: Record<string, StoredBand>;
}

export interface BandRow {
  instrument: string;
  accountId: string;
  shard: number;
  low: string | null;
  high: string | null;
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
 * Is the stored bound on one side still good enough? It must lie inside the new band (so the stored box
 * stays within a proven one), leave the price strictly inside, and keep at least half the new room:
 * a stored band that has become much narrower than it could be is rewritten, else ticks would keep
 * crossing it for nothing. Room without a bound counts as the whole price (a halving or a doubling).
 */
function keepSide(
  stored: string | null,
  fresh: Decimal | null,
  price: Decimal,
  side: 'low' | 'high',
): boolean {
  if (stored === null) return fresh === null;
  const s = new Decimal(stored);
  const room = side === 'low' ? price.minus(s) : s.minus(price);
  if (!room.isPositive()) return false;
  if (fresh !== null && (side === 'low' ? s.lessThan(fresh) : s.greaterThan(fresh))) return false;
  const freshRoom = fresh === null ? price : side === 'low' ? price.minus(fresh) : fresh.minus(price);
  return room.times(2).greaterThanOrEqualTo(freshRoom);
}

function keep(stored: StoredBand | undefined, band: PriceBand): boolean {
  if (!stored) return band.low === null && band.high === null;
  return (
    keepSide(stored.low, band.low, band.price, 'low') && keepSide(stored.high, band.high, band.price, 'high')
  );
}

/**
 * What to write after an evaluation, or null when the stored rows still hold. `held` are the
 * instruments the account holds (for an unbanded account's rows); `rewriteAll` after a lost race,
 * when the rows may no longer be what the summary says.
 */
export function planBandWrite(
  accountId: string,
  stored: BandSummary | null,
  next: BandSet,
  held: readonly string[],
  shards: number,
  rewriteAll = false,
): BandWritePlan | null {
  const shard = shardOf(accountId, shards);
  const before = stored?.rows ?? {};
  const rows: Record<string, StoredBand> = {};
  const puts: BandRow[] = [];
  if (next.kind === 'always') {
    for (const instrument of [...new Set(held)].sort()) {
      rows[instrument] = { low: ALWAYS_LOW, high: null };
      const old = before[instrument];
      if (rewriteAll || old?.low !== ALWAYS_LOW || old.high !== null)
        puts.push({ instrument, accountId, shard, low: ALWAYS_LOW, high: null });
    }
  } else {
    for (const band of next.bands) {
      const old = before[band.instrument];
      if (!rewriteAll && stored?.always === null && keep(old, band)) {
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
  const watchChanged = (stored?.always ?? null) !== always;
  if (!rewriteAll && stored && puts.length === 0 && deletes.length === 0 && !watchChanged) return null;
  return {
    accountId,
    shard,
    expectedVersion: stored?.version ?? 0,
    puts,
    deletes,
    watch: always !== null && (watchChanged || rewriteAll) ? { reason: always } : null,
    unwatch: always === null && (stored?.always ?? null) !== null,
    summary: { accountId, version: (stored?.version ?? 0) + 1, always, rows },
  };
}

/** The stored bound of each instrument, for checking prices read after the write. */
export function storedBounds(
  summary: BandSummary,
): Map<string, { low: Decimal | null; high: Decimal | null }> {
  return new Map(
    Object.entries(summary.rows).map(([instrument, row]) => [
      instrument,
      {
        low: row.low === null || row.low === ALWAYS_LOW ? null : new Decimal(row.low),
        high: row.high === null ? null : new Decimal(row.high),
      },
    ]),
  );
}
