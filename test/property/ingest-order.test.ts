/**
 * Ingestion ordering (shared/ingest/apply.ts): whatever order a broker's updates arrive in, and however
 * often each is delivered, the stored book ends exactly where applying them once, in sequence order, ends.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyUpdate, SEQUENCE_ATTRIBUTES, type StoredBook } from '../../shared/ingest/apply.ts';
import { parseIngestUpdate, type IngestUpdate } from '../../shared/ingest/contract.ts';
import type { AccountItem, PositionItem } from '../../shared/pipeline/records.ts';
import { scaled } from '../helpers/scale.ts';

const INSTRUMENTS = ['AAA', 'BBB', 'CCC', 'DDD'];
const quantity = fc.integer({ min: -50, max: 50 }).map(String);
const body = fc.record({ quantity, avgCost: fc.constantFrom('10', '12.5') });

/** One update without its sequence: what the source sends, in the contract's shape. */
const change = fc.oneof(
  fc.record({
    type: fc.constant('AccountUpserted' as const),
    account: fc.record({
      model: fc.constantFrom('gross', 'reg-t'),
      cash: fc.integer({ min: -500, max: 500 }).map(String),
    }),
  }),
  fc.record({
    type: fc.constant('CashChanged' as const),
    cash: fc.integer({ min: -500, max: 500 }).map(String),
  }),
  fc.record({
    type: fc.constant('PositionChanged' as const),
    instrument: fc.constantFrom(...INSTRUMENTS),
    position: fc.option(body, { nil: undefined }),
  }),
  fc.record({
    type: fc.constant('PositionsReplaced' as const),
    positions: fc.uniqueArray(
      fc.record({ instrument: fc.constantFrom(...INSTRUMENTS), quantity, avgCost: fc.constant('10') }),
      { selector: (p) => p.instrument, maxLength: 3 },
    ),
  }),
);

function update(raw: Record<string, unknown>, sequence: number): IngestUpdate {
  const base = { schemaVersion: 1, accountId: 'ACC-1', sequence, ...raw };
  if (raw.type === 'PositionChanged' && raw.position === undefined) {
    const { position: _p, ...closed } = base as Record<string, unknown>;
    return parseIngestUpdate({ ...closed, closed: true });
  }
  return parseIngestUpdate(base);
}

/** A store the outcomes are applied to, as the repository writes them. */
function applyAll(updates: readonly IngestUpdate[]) {
  const store: { account: AccountItem | null; positions: Map<string, PositionItem> } = {
    account: null,
    positions: new Map(),
  };
  for (const u of updates) {
    const book: StoredBook = { account: store.account, positions: [...store.positions.values()] };
    const outcome = applyUpdate(book, u);
    if (outcome.status === 'unknown-account') throw new Error('the first upsert is always applied first');
    if (outcome.status !== 'applied') continue;
    if (outcome.account) store.account = outcome.account;
    for (const p of outcome.positions) store.positions.set(p.instrument, p);
  }
  return store;
}

/** What the engine will see: fields without the ordering bookkeeping, positions that are held. */
function view(store: ReturnType<typeof applyAll>) {
  const strip = (item: Record<string, unknown>) =>
    Object.fromEntries(
      Object.entries(item).filter(([k]) => !(SEQUENCE_ATTRIBUTES as readonly string[]).includes(k)),
    );
  return {
    account: store.account && strip(store.account),
    positions: [...store.positions.values()]
      .filter((p) => p.quantity !== '0')
      .map(strip)
      .sort((a, b) => String(a.instrument).localeCompare(String(b.instrument))),
  };
}

describe('ingestion order', () => {
  it('any reordering and duplication of updates ends in the book of applying them in order', () => {
    fc.assert(
      fc.property(
        fc.array(change, { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.func(fc.integer()),
        (changes, repeats, order) => {
          const first = update({ type: 'AccountUpserted', account: { model: 'gross', cash: '0' } }, 1);
          // Sequences with gaps, as a source's numbering or its timestamps have.
          const updates = changes.map((c, i) => update(c, 10 + i * 7));
          const inOrder = view(applyAll([first, ...updates]));
          const delivered = [...updates, ...repeats.map((r) => updates[r % updates.length]!)];
          const shuffled = delivered
            .map((u, i) => ({ u, key: order(i) }))
            .sort((a, b) => a.key - b.key)
            .map(({ u }) => u);
          expect(view(applyAll([first, ...shuffled]))).toEqual(inOrder);
        },
      ),
      { numRuns: scaled(300, 3_000) },
    );
  });
});
