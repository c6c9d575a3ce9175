import { TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { BankruptcySettlement } from '../../shared/deleverage/insurance-fund.ts';
import { RetryLaterError } from '../../shared/errors.ts';
import { auditId, auditItem } from './actions-repository.ts';
import { transactWrite, transientCancellation, type RetryTools } from './transactions.ts';

const FUND = '#insurance-fund';

export interface FundDraw {
  accountId: string;
  incidentId: string;
  at: string;
  loss: string;
  fromCollateral: string;
  fromFund: string;
}

/**
 * What a draw did: `drawn` now; `already-drawn` (the ledger has this incident's draw: a retry or a
 * redelivery); `balance-moved` (the balance is no longer that deficit: cash arrived, or it was settled
 * another way) — nothing drawn.
 */
export type DrawOutcome = 'drawn' | 'already-drawn' | 'balance-moved';

const drawKey = (incidentId: string, accountId: string) => `DRAW#${incidentId}#${accountId}`;
const outboxKey = (incidentId: string, accountId: string) => `ADL#${incidentId}#${accountId}`;

/** The transaction's items, in this order (their cancellation reasons come back in the same order). */
const ITEM = { balance: 0, draw: 1 } as const;

/**
 * The insurance-fund ledger (Actions table, `#insurance-fund`): one draw per bankrupt liquidation,
 * written in one transaction with the account's balance reset to zero (conditional on the balance still
 * being the deficit it covers, and on the incident having no draw yet: never twice), its audit entry
 * (`insurance-fund-draw`), and an outbox item naming the instruments whose auto-deleveraging queues are to
 * be published. The outbox item is deleted once they are: a retry after any failure finds it and
 * publishes what is missing, so a draw is never left unaudited or unannounced.
 */
export class InsuranceFundLedger {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tables: { actions: string; accounts: string },
    /** Backoff for throttled or conflicting transactions (real timers by default). */
    private readonly retry?: RetryTools,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  /**
   * Draws the deficit, told apart by cancellation reason: the draw's own condition failed → already
   * drawn; only the balance's → it moved; throttling or a conflict → retried with backoff
   * (transactions.ts), and still failing, RetryLaterError `transaction-contended` (the event is retried;
   * the deficit is never skipped as if settled).
   */
  async draw(
    accountId: string,
    incidentId: string,
    balance: string,
    s: BankruptcySettlement,
    at: string,
    /** The liquidated instruments, whose ADL queues the draw announces (the outbox). */
    instruments: readonly string[] = [],
  ): Promise<DrawOutcome> {
    const entry: FundDraw = {
      accountId,
      incidentId,
      at,
      loss: s.loss.toFixed(),
      fromCollateral: s.fromCollateral.toFixed(),
      fromFund: s.fromFund.toFixed(),
    };
    const audit = auditItem(
      {
        accountId,
        incidentId,
        action: 'insurance-fund-draw',
        actor: 'automation',
        details: {
          loss: entry.loss,
          fromCollateral: entry.fromCollateral,
          fromFund: entry.fromFund,
          balanceBefore: balance,
          balanceAfter: '0',
        },
      },
      at,
      auditId(),
    );
    const put = (Item: Record<string, unknown>) => ({
      Put: { TableName: this.tables.actions, Item, ConditionExpression: 'attribute_not_exists(actionKey)' },
    });
    try {
      await transactWrite(
        this.doc,
        {
          TransactItems: [
            {
              Update: {
                TableName: this.tables.accounts,
                Key: { accountId },
                UpdateExpression: 'SET cash = :zero',
                ConditionExpression: 'cash = :balance',
                ExpressionAttributeValues: { ':zero': '0', ':balance': balance },
              },
            },
            put({
              ...entry,
              accountId: FUND,
              actionKey: drawKey(incidentId, accountId),
              drawnFor: accountId,
            }),
            put(audit),
            ...(instruments.length > 0
              ? [
                  put({
                    accountId: FUND,
                    actionKey: outboxKey(incidentId, accountId),
                    drawnFor: accountId,
                    incidentId,
                    instruments: [...instruments],
                    at,
                  }),
                ]
              : []),
          ],
        },
        this.retry,
      );
      return 'drawn';
    } catch (e) {
      if (transientCancellation(e))
        throw new RetryLaterError(
          'transaction-contended',
          `the insurance-fund draw of ${accountId} (${incidentId}) stayed throttled or conflicting`,
          undefined,
          { cause: e },
        );
      if (
        !(e instanceof TransactionCanceledException) &&
        (e as { name?: string }).name !== 'TransactionCanceledException'
      )
        throw e;
      const codes = ((e as TransactionCanceledException).CancellationReasons ?? []).map((r) => r.Code);
      if (codes[ITEM.draw] === 'ConditionalCheckFailed') return 'already-drawn';
      if (codes[ITEM.balance] === 'ConditionalCheckFailed') return 'balance-moved';
      throw e;
    }
  }

  /** The instruments a draw still has to announce (its outbox item), or null when nothing is pending. */
  async pendingAdl(accountId: string, incidentId: string): Promise<string[] | null> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tables.actions,
        Key: { accountId: FUND, actionKey: outboxKey(incidentId, accountId) },
        ConsistentRead: true,
      }),
    );
    return (out.Item?.instruments as string[] | undefined) ?? null;
  }

  /** Every ADL queue of the draw was published: its outbox item goes. */
  async clearAdl(accountId: string, incidentId: string): Promise<void> {
    await this.doc.send(
      new DeleteCommand({
        TableName: this.tables.actions,
        Key: { accountId: FUND, actionKey: outboxKey(incidentId, accountId) },
      }),
    );
  }

  async draws(): Promise<FundDraw[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tables.actions,
        KeyConditionExpression: 'accountId = :f AND begins_with(actionKey, :p)',
        ExpressionAttributeValues: { ':f': FUND, ':p': 'DRAW#' },
        ConsistentRead: true,
      }),
    );
    return (out.Items ?? []).map((i) => ({ ...(i as FundDraw), accountId: i.drawnFor as string }));
  }
}
