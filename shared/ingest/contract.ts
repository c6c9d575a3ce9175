/**
 * The ingestion contract, version 1: how a broker's systems tell Margin Guard about accounts, cash and
 * positions (docs/ingestion.md). Each update carries the source's `sequence` — a sequence number, or a
 * timestamp in epoch milliseconds — and is applied only if it is newer than what the item last saw
 * (shared/ingest/apply.ts), so reordered, duplicated or replayed deliveries never move a book backwards.
 *
 * Bodies are the engine's edge shapes (decimal strings; README "CLI"), strict: an unknown key is refused
 * by name. An account body is checked by the engine's own parser (its params and the model's rules on an
 * empty book); positions by the engine's position schema (the model's rules that join account and book
 * are checked when the account is evaluated, and a failure there is dead-lettered naming the field). A
 * position's price is not part of it: prices come from `POST /prices`, ordered by their price time.
 */
import { z } from 'zod';
import { InputError, safeParseFields, type FieldIssue } from '../errors.ts';
import { parseEvaluationInput } from '../margin/evaluate.ts';
import { accountSchema } from '../schemas/account.ts';
import { decimalString } from '../schemas/decimal-string.ts';
import { positionSchema, positionsSchema } from '../schemas/position.ts';
import { validPriceItemSchema } from '../pipeline/records.ts';

export const INGEST_SCHEMA_VERSION = 1;

/** The EventBridge source of a broker's ingestion events on the Margin Guard bus (detail-type = `type`). */
export const INGEST_EVENT_SOURCE = 'margin-guard.broker.ingest';

/** The ingestion event types: the four updates, and a batch of price ticks. */
export const INGEST_EVENT_TYPES = [
  'AccountUpserted',
  'CashChanged',
  'PositionChanged',
  'PositionsReplaced',
  'PriceTicks',
] as const;

/** A batch of ticks; each is a price item (shared/pipeline/records.ts), stored only if newer by its price time. */
export const priceTicksSchema = z.strictObject({
  schemaVersion: z.literal(1, { error: 'expected schemaVersion 1' }),
  type: z.literal('PriceTicks'),
  ticks: z.array(validPriceItemSchema).min(1, 'at least one tick').max(500, 'at most 500 ticks in one batch'),
});
export type PriceTicks = z.output<typeof priceTicksSchema>;

/** The largest book a `PositionsReplaced` may carry: one DynamoDB transaction (100 items) less the account. */
export const MAX_BATCH_POSITIONS = 99;

const accountId = accountSchema.shape.id;
const instrument = z.string({ error: 'required' }).trim().min(1, 'must not be empty').max(64);
const sequence = z
  .number({ error: 'expected the source’s sequence number (an integer; a timestamp in epoch ms works)' })
  .int('must be a whole number')
  .nonnegative('must not be negative')
  .max(Number.MAX_SAFE_INTEGER, 'must be at most 2^53 − 1');
const version = z.literal(INGEST_SCHEMA_VERSION, {
  error: `expected schemaVersion ${INGEST_SCHEMA_VERSION}`,
});

/** An account's fields as the engine reads them, without its id (the update names it). */
const accountBody = z
  .record(z.string(), z.unknown())
  .describe(
    'The account as `margin-guard evaluate` reads it (README "CLI"), without `id`: model, cash, params and the optional fields; checked by the engine’s own parser.',
  );
/** A position's fields as the engine reads them, without the instrument (the update names it) or a price. */
const positionBody = z
  .record(z.string(), z.unknown())
  .describe(
    'The position as `margin-guard evaluate` reads it, without `instrument` (the update names it), `price` or `priceTime` (prices come from POST /prices).',
  );

export const accountUpsertedSchema = z.strictObject({
  schemaVersion: version,
  type: z.literal('AccountUpserted'),
  accountId,
  sequence,
  account: accountBody,
});
export const cashChangedSchema = z.strictObject({
  schemaVersion: version,
  type: z.literal('CashChanged'),
  accountId,
  sequence,
  /** The new ledger cash balance (absolute, not a delta: a replayed absolute value changes nothing). */
  cash: z.string({ error: 'required: the new cash balance, a decimal string' }),
});
export const positionChangedSchema = z.strictObject({
  schemaVersion: version,
  type: z.literal('PositionChanged'),
  accountId,
  instrument,
  sequence,
  /** The position as it now is; absent with `closed: true`. */
  position: positionBody.optional(),
  closed: z.literal(true).optional(),
});
export const positionsReplacedSchema = z.strictObject({
  schemaVersion: version,
  type: z.literal('PositionsReplaced'),
  accountId,
  sequence,
  /** The whole book: every instrument not in it is closed. */
  positions: z
    .array(
      positionBody.describe(
        'A position as `margin-guard evaluate` reads it, with its `instrument`, without a price.',
      ),
    )
    .max(MAX_BATCH_POSITIONS, {
      error: `at most ${MAX_BATCH_POSITIONS} positions in one book update`,
    }),
});

/** The ingestion events by detail-type, for their JSON Schemas (docs/events/ingest/). */
export const INGEST_EVENT_SCHEMAS = {
  AccountUpserted: accountUpsertedSchema,
  CashChanged: cashChangedSchema,
  PositionChanged: positionChangedSchema,
  PositionsReplaced: positionsReplacedSchema,
} as const;

export const ingestUpdateSchema = z.discriminatedUnion(
  'type',
  [accountUpsertedSchema, cashChangedSchema, positionChangedSchema, positionsReplacedSchema],
  {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? 'expected type AccountUpserted, CashChanged, PositionChanged or PositionsReplaced'
        : undefined,
  },
);

/** A validated update; bodies stay in the edge shape (decimal strings), as the tables hold them. */
export type IngestUpdate = z.output<typeof ingestUpdateSchema>;

/** The engine parses positions with a price; updates carry none, so they are checked against this one. */
const PLACEHOLDER_PRICE = '1';

/**
 * Parses and validates an update in one pass, every bad field named (`position.quantity`,
 * `positions[2].instrument`, `account.params.maintenanceRat`). Throws InputError.
 */
export function parseIngestUpdate(raw: unknown): IngestUpdate {
  const envelope = safeParseFields(ingestUpdateSchema, raw);
  if (!envelope.success) throw envelope.error;
  const update = envelope.data;
  const issues: FieldIssue[] = [];
  const engine = (input: unknown) => {
    try {
      parseEvaluationInput(input);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      issues.push(...e.issues);
    }
  };
  const checkPositionKeys = (body: Record<string, unknown>, at: string) => {
    for (const key of ['price', 'priceTime', 'instrument'] as const)
      if (key in body && !(key === 'instrument' && at.startsWith('positions[')))
        issues.push({
          field: `${at}.${key}`,
          message:
            key === 'instrument'
              ? 'the update names the instrument; leave it out of the position'
              : 'prices come from POST /prices (the price feed), not the position',
        });
  };
  switch (update.type) {
    case 'AccountUpserted':
      if ('id' in update.account)
        issues.push({
          field: 'account.id',
          message: 'the update names the account (accountId); leave id out',
        });
      engine({ account: { ...update.account, id: update.accountId }, positions: [] });
      break;
    case 'CashChanged': {
      const cash = safeParseFields(decimalString, update.cash, ['cash']);
      if (!cash.success) issues.push(...cash.error.issues);
      break;
    }
    case 'PositionChanged': {
      if ((update.position === undefined) === (update.closed === undefined))
        issues.push({ field: 'position', message: 'give the position, or closed: true (not both)' });
      if (update.position) {
        checkPositionKeys(update.position, 'position');
        const { price: _a, priceTime: _b, instrument: _c, ...fields } = update.position;
        const parsed = safeParseFields(
          positionSchema,
          { ...fields, instrument: update.instrument, price: PLACEHOLDER_PRICE },
          ['position'],
        );
        if (!parsed.success) issues.push(...parsed.error.issues);
      }
      break;
    }
    case 'PositionsReplaced': {
      update.positions.forEach((p, i) => checkPositionKeys(p, `positions[${i}]`));
      const parsed = safeParseFields(
        positionsSchema,
        update.positions.map(({ price: _a, priceTime: _b, ...p }) => ({ ...p, price: PLACEHOLDER_PRICE })),
        ['positions'],
      );
      if (!parsed.success) issues.push(...parsed.error.issues);
      break;
    }
  }
  if (issues.length > 0) throw new InputError(issues);
  return update;
}
