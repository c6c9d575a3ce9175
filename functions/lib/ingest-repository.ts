import { TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { InputError, RetryLaterError } from '../../shared/errors.ts';
import { applyUpdate, SEQUENCE_ATTRIBUTES, type ApplyOutcome } from '../../shared/ingest/apply.ts';
import { MAX_BATCH_POSITIONS, type IngestUpdate } from '../../shared/ingest/contract.ts';
import type { AccountItem, PositionItem } from '../../shared/pipeline/records.ts';
import { RiskRepository } from './risk-repository.ts';
import type { TableKey } from './table-definitions.ts';
import { transactWrite, type RetryTools } from './transactions.ts';

/** Re-reads after a race with another writer of the same account before giving up (retry later). */
const RACE_ATTEMPTS = 5;

type Item = Readonly<Record<string, unknown>>;

/**
 * The condition that `item` is still what was read: absent, or with the same ordering attributes. Every
 * write of an ingestion update carries one, so two updates that raced on the same read cannot both land
 * (the loser re-reads and decides again).
 */
function unchanged(item: Item | null | undefined, key: string, attributes: readonly string[], n: string) {
  if (!item) return { ConditionExpression: `attribute_not_exists(${key})` };
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const terms = attributes.map((a, i) => {
    names[`#${n}${i}`] = a;
    if (typeof item[a] !== 'number') return `attribute_not_exists(#${n}${i})`;
    values[`:${n}${i}`] = item[a];
    return `#${n}${i} = :${n}${i}`;
  });
  return {
    ConditionExpression: terms.join(' AND '),
    ExpressionAttributeNames: names,
    ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
  };
}

/**
 * Applies ingestion updates to the Accounts and Positions tables (shared/ingest/apply.ts decides): reads
 * the account and its positions (strongly consistent), and writes what the decision returns in one
 * transaction — nothing is half-applied — conditional on every item it read being unchanged. A race
 * re-reads and decides again; after RACE_ATTEMPTS it is a RetryLaterError (`ingest-contended`).
 * The writes land on the streamed tables, so the evaluation that follows each change is the streams'.
 */
export class IngestRepository {
  private readonly doc: DynamoDBDocumentClient;
  /** The account and its positions, strongly consistent (the evaluator's own reads). */
  private readonly reader: Pick<RiskRepository, 'getAccount' | 'getPositions'>;

  constructor(
    client: DynamoDBClient,
    private readonly tables: Record<TableKey, string>,
    private readonly tools?: RetryTools,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.reader = new RiskRepository(client, tables);
  }

  async apply(update: IngestUpdate): Promise<ApplyOutcome> {
    for (let attempt = 1; ; attempt++) {
      const account = await this.reader.getAccount(update.accountId);
      const positions =
        update.type === 'AccountUpserted' || update.type === 'CashChanged'
          ? []
          : await this.reader.getPositions(update.accountId);
      const outcome = applyUpdate({ account, positions }, update);
      if (outcome.status !== 'applied') return outcome;
      if (outcome.positions.length > MAX_BATCH_POSITIONS)
        throw InputError.single(
          'positions',
          `this book update writes ${outcome.positions.length} positions (the new book and the ones it closes); ` +
            `at most ${MAX_BATCH_POSITIONS} in one update: close some first`,
        );
      try {
        await transactWrite(this.doc, this.writes(update, account, positions, outcome), this.tools);
        return outcome;
      } catch (e) {
        if (!(e instanceof TransactionCanceledException) || attempt >= RACE_ATTEMPTS) {
          if (e instanceof TransactionCanceledException)
            throw new RetryLaterError(
              'transaction-contended',
              `ingestion update for ${update.accountId} kept racing other writers (${attempt} attempts)`,
              undefined,
              { cause: e },
            );
          throw e;
        }
      }
    }
  }

  private writes(
    update: IngestUpdate,
    account: AccountItem | null,
    positions: readonly PositionItem[],
    outcome: Extract<ApplyOutcome, { status: 'applied' }>,
  ): TransactWriteCommandInput {
    const TransactItems: NonNullable<TransactWriteCommandInput['TransactItems']> = [];
    const accountGuard = {
      TableName: this.tables.accounts,
      ...unchanged(account, 'accountId', SEQUENCE_ATTRIBUTES, 'a'),
    };
    if (outcome.account)
      TransactItems.push({
        Put: { ...accountGuard, Item: { ...outcome.account, updatedAt: this.now().toISOString() } },
      });
    // A position update still depends on the account's book sequence: check it is unchanged.
    else TransactItems.push({ ConditionCheck: { ...accountGuard, Key: { accountId: update.accountId } } });
    const stored = new Map(positions.map((p) => [p.instrument, p]));
    for (const item of outcome.positions) {
      TransactItems.push({
        Put: {
          TableName: this.tables.positions,
          Item: { ...item, updatedAt: this.now().toISOString() },
          ...unchanged(stored.get(item.instrument), 'accountId', ['sequence'], 'p'),
        },
      });
    }
    return { TransactItems };
  }
}
