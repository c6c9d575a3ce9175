/**
 * Applying an ingestion update (shared/ingest/contract.ts) to an account's stored items, only if it is
 * newer: the decision is pure, and the adapter (functions/lib/ingest-repository.ts) writes what it returns
 * conditionally on the items it read, re-reading on a race.
 *
 * Each item remembers the sequence of the update that last wrote it:
 * - the account item: `sequence` (its fields) and `cashSequence` (its cash: a `CashChanged` and the cash
 *   of an `AccountUpserted` are ordered together, so a newer cash survives an older upsert);
 * - each position item: `sequence`; a closed position stays as a flat row (quantity "0", which the
 *   pipeline never evaluates) so its sequence still refuses older updates;
 * - the account's `bookSequence`: the last `PositionsReplaced` — a book replaced at s makes every
 *   position update at or before s stale, even for an instrument the new book does not hold.
 *
 * An update at or before what an item has seen is **stale**: refused with a named status, never applied,
 * so replays and duplicates change nothing and reordered deliveries end where the in-order ones do (the
 * property test in test/property/ingest-order.test.ts checks any interleaving). A position or cash update
 * for an account that does not exist yet is refused as `unknown-account`, retryable: the account's first
 * `AccountUpserted` must land first (a queue's retry delivers it again after).
 */
import type { AccountItem, PositionItem } from '../pipeline/records.ts';
import type { IngestUpdate } from './contract.ts';

export interface StoredBook {
  account: AccountItem | null;
  positions: readonly PositionItem[];
}

export type ApplyOutcome =
  | {
      status: 'applied';
      /** The account item to write, when it changes. */
      account?: AccountItem;
      /** Position items to write (a closed one as a flat row). */
      positions: PositionItem[];
    }
  | { status: 'stale'; message: string }
  | { status: 'unknown-account'; message: string };

/** The stable statuses of an update that was not applied: the API's 409 codes, the bus handler's counters. */
export const INGEST_REFUSALS = ['stale', 'unknown-account'] as const;

/** Attributes the ingestion keeps on items besides the engine's fields (stripped before evaluation). */
export const SEQUENCE_ATTRIBUTES = ['sequence', 'cashSequence', 'bookSequence'] as const;

const seen = (item: Readonly<Record<string, unknown>> | null | undefined, key: string): number =>
  typeof item?.[key] === 'number' ? (item[key] as number) : -1;

const FLAT = '0';

export function applyUpdate(book: StoredBook, update: IngestUpdate): ApplyOutcome {
  const { account } = book;
  const stale = (what: string, at: number): ApplyOutcome => ({
    status: 'stale',
    message: `sequence ${update.sequence} is not newer than ${what}'s ${at}`,
  });
  if (update.type === 'AccountUpserted') {
    const last = seen(account, 'sequence');
    if (update.sequence <= last) return stale(`account ${update.accountId}`, last);
    const cashSeen = seen(account, 'cashSequence');
    const keepCash = account !== null && cashSeen >= update.sequence;
    // The body passed the engine's account parser (parseIngestUpdate): it has a model and cash.
    const next = {
      ...update.account,
      accountId: update.accountId,
      sequence: update.sequence,
      ...(keepCash ? { cash: account.cash, cashSequence: cashSeen } : { cashSequence: update.sequence }),
      ...(account && seen(account, 'bookSequence') >= 0 ? { bookSequence: account.bookSequence } : {}),
    } as unknown as AccountItem;
    return { status: 'applied', account: next, positions: [] };
  }
  if (account === null)
    return {
      status: 'unknown-account',
      message: `no account ${update.accountId} yet: its AccountUpserted must come first`,
    };
  if (update.type === 'CashChanged') {
    const last = seen(account, 'cashSequence');
    if (update.sequence <= last) return stale(`the cash of ${update.accountId}`, last);
    return {
      status: 'applied',
      account: { ...account, cash: update.cash, cashSequence: update.sequence },
      positions: [],
    };
  }
  const floor = seen(account, 'bookSequence');
  const byInstrument = new Map(book.positions.map((p) => [p.instrument, p]));
  const positionItem = (instrument: string, fields: Record<string, unknown> | null): PositionItem =>
    ({
      ...(fields ?? { quantity: FLAT }),
      accountId: update.accountId,
      instrument,
      sequence: update.sequence,
    }) as PositionItem;
  if (update.type === 'PositionChanged') {
    const last = Math.max(floor, seen(byInstrument.get(update.instrument), 'sequence'));
    if (update.sequence <= last) return stale(`position ${update.accountId}/${update.instrument}`, last);
    return {
      status: 'applied',
      positions: [positionItem(update.instrument, update.closed ? null : update.position!)],
    };
  }
  // PositionsReplaced: the whole book at this sequence, except positions already newer than it.
  if (update.sequence <= floor) return stale(`the book of ${update.accountId}`, floor);
  const incoming = new Map(update.positions.map((p) => [p.instrument as string, p]));
  const positions: PositionItem[] = [];
  for (const instrument of new Set([...byInstrument.keys(), ...incoming.keys()])) {
    if (seen(byInstrument.get(instrument), 'sequence') >= update.sequence) continue; // a newer update won
    const { instrument: _i, ...fields } = incoming.get(instrument) ?? {};
    const flat = !incoming.has(instrument);
    if (
      flat &&
      byInstrument.get(instrument)?.quantity === FLAT &&
      seen(byInstrument.get(instrument), 'sequence') >= 0
    )
      continue; // closed already; the book sequence below keeps it closed
    positions.push(positionItem(instrument, flat ? null : fields));
  }
  return { status: 'applied', account: { ...account, bookSequence: update.sequence }, positions };
}
