import { describe, expect, it } from 'vitest';
import { applyUpdate } from '../../../shared/ingest/apply.ts';
import { parseIngestUpdate } from '../../../shared/ingest/contract.ts';
import { InputError } from '../../../shared/errors.ts';
import type { AccountItem, PositionItem } from '../../../shared/pipeline/records.ts';

const fields = (raw: unknown) => {
  try {
    parseIngestUpdate(raw);
  } catch (e) {
    if (e instanceof InputError) return e.issues.map((i) => `${i.field}: ${i.message}`);
    throw e;
  }
  return [];
};
const v1 = { schemaVersion: 1, accountId: 'A1', sequence: 7 };

describe('the ingestion contract', () => {
  it('accepts each update type in the engine’s edge shape', () => {
    expect(fields({ ...v1, type: 'AccountUpserted', account: { model: 'reg-t', cash: '-100.50' } })).toEqual(
      [],
    );
    expect(fields({ ...v1, type: 'CashChanged', cash: '250' })).toEqual([]);
    expect(
      fields({
        ...v1,
        type: 'PositionChanged',
        instrument: 'SPY',
        position: { quantity: '10', avgCost: '400' },
      }),
    ).toEqual([]);
    expect(fields({ ...v1, type: 'PositionChanged', instrument: 'SPY', closed: true })).toEqual([]);
    expect(
      fields({ ...v1, type: 'PositionsReplaced', positions: [{ instrument: 'SPY', quantity: '10' }] }),
    ).toEqual([]);
  });

  it('names every bad field in one pass, unknown keys with a did-you-mean', () => {
    expect(fields({ ...v1, type: 'Upserted' })).toEqual([
      'type: expected type AccountUpserted, CashChanged, PositionChanged or PositionsReplaced',
    ]);
    expect(
      fields({ schemaVersion: 2, accountId: 'A 1', sequence: -1, type: 'CashChanged', cash: '1', extra: 1 }),
    ).toEqual(
      expect.arrayContaining([
        'schemaVersion: expected schemaVersion 1',
        'accountId: may contain only letters, digits and . _ : @ -',
        'sequence: must not be negative',
        'extra: unknown key (expected one of schemaVersion, type, accountId, sequence, cash)',
      ]),
    );
    expect(fields({ ...v1, sequence: 1.5, type: 'CashChanged', cash: '1' })).toEqual([
      'sequence: must be a whole number',
    ]);
    expect(fields({ ...v1, type: 'CashChanged', cash: 'lots' })).toEqual([
      'cash: not a decimal number: "lots"',
    ]);
    expect(
      fields({
        ...v1,
        type: 'AccountUpserted',
        account: { id: 'A1', model: 'gross', cash: '1', params: { maintenanceRat: '0.3' } },
      }),
    ).toEqual([
      'account.id: the update names the account (accountId); leave id out',
      'account.params.maintenanceRat: unknown key (did you mean "maintenanceRate"?)',
    ]);
    expect(
      fields({
        ...v1,
        type: 'PositionChanged',
        instrument: 'SPY',
        position: { quantity: 'ten', price: '400', fractionl: false },
      }),
    ).toEqual(
      expect.arrayContaining([
        'position.price: prices come from POST /prices (the price feed), not the position',
        'position.quantity: not a decimal number: "ten"',
        'position.fractionl: unknown key (did you mean "fractional"?)',
      ]),
    );
    expect(fields({ ...v1, type: 'PositionChanged', instrument: 'SPY' })).toEqual([
      'position: give the position, or closed: true (not both)',
    ]);
    expect(
      fields({
        ...v1,
        type: 'PositionsReplaced',
        positions: [
          { instrument: 'SPY', quantity: '1' },
          { instrument: 'SPY', quantity: '2' },
        ],
      }),
    ).toEqual(['positions[1].instrument: duplicate instrument SPY (already at positions[0])']);
  });
});

describe('applying an update only if it is newer', () => {
  const account = {
    accountId: 'A1',
    model: 'gross',
    cash: '100',
    sequence: 5,
    cashSequence: 9,
  } as AccountItem;
  const spy = { accountId: 'A1', instrument: 'SPY', quantity: '10', sequence: 8 } as PositionItem;
  const book = { account, positions: [spy] };

  it('an older or repeated update is stale, with a named reason; nothing is written', () => {
    expect(
      applyUpdate(
        book,
        parseIngestUpdate({ ...v1, sequence: 8, type: 'PositionChanged', instrument: 'SPY', closed: true }),
      ),
    ).toEqual({
      status: 'stale',
      message: "sequence 8 is not newer than position A1/SPY's 8",
    });
    expect(
      applyUpdate(book, parseIngestUpdate({ ...v1, sequence: 9, type: 'CashChanged', cash: '1' })),
    ).toMatchObject({
      status: 'stale',
    });
  });

  it('an upsert older than the last cash change keeps the newer cash', () => {
    const out = applyUpdate(
      book,
      parseIngestUpdate({
        ...v1,
        sequence: 6,
        type: 'AccountUpserted',
        account: { model: 'reg-t', cash: '0' },
      }),
    );
    expect(out).toEqual({
      status: 'applied',
      account: { accountId: 'A1', model: 'reg-t', cash: '100', sequence: 6, cashSequence: 9 },
      positions: [],
    });
  });

  it('a replaced book closes what it does not hold, keeps what is newer, and fences older updates', () => {
    const qqq = { accountId: 'A1', instrument: 'QQQ', quantity: '3', sequence: 12 } as PositionItem;
    const out = applyUpdate(
      { account, positions: [spy, qqq] },
      parseIngestUpdate({
        ...v1,
        sequence: 10,
        type: 'PositionsReplaced',
        positions: [{ instrument: 'IWM', quantity: '4' }],
      }),
    );
    expect(out).toEqual({
      status: 'applied',
      account: { ...account, bookSequence: 10 },
      positions: [
        { accountId: 'A1', instrument: 'SPY', quantity: '0', sequence: 10 },
        { accountId: 'A1', instrument: 'IWM', quantity: '4', sequence: 10 },
      ],
    });
    const fenced = { account: { ...account, bookSequence: 10 }, positions: [] };
    expect(
      applyUpdate(
        fenced,
        parseIngestUpdate({
          ...v1,
          sequence: 9,
          type: 'PositionChanged',
          instrument: 'DIA',
          position: { quantity: '1' },
        }),
      ),
    ).toEqual({
      status: 'stale',
      message: "sequence 9 is not newer than position A1/DIA's 10",
    });
  });

  it('a position or cash for an account that does not exist yet waits for its AccountUpserted', () => {
    expect(
      applyUpdate(
        { account: null, positions: [] },
        parseIngestUpdate({ ...v1, type: 'CashChanged', cash: '1' }),
      ),
    ).toEqual({
      status: 'unknown-account',
      message: 'no account A1 yet: its AccountUpserted must come first',
    });
  });
});
