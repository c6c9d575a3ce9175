import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { BankruptcySettlement } from '../../shared/deleverage/insurance-fund.ts';

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
 * The insurance-fund ledger (Actions table, `#insurance-fund`): one draw per bankrupt liquidation,
 * written together with the account's balance reset to zero — in one transaction, conditional on the
 * balance still being the deficit it covers, so a retry never draws twice.
 */
export class InsuranceFundLedger {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tables: { actions: string; accounts: string },
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  /** False if the balance moved meanwhile (someone else settled it, or cash arrived). */
  async draw(
    accountId: string,
    incidentId: string,
    balance: string,
    s: BankruptcySettlement,
    at: string,
  ): Promise<boolean> {
    const entry: FundDraw = {
      accountId,
      incidentId,
      at,
      loss: s.loss.toFixed(),
      fromCollateral: s.fromCollateral.toFixed(),
      fromFund: s.fromFund.toFixed(),
    };
    try {
      await this.doc.send(
        new TransactWriteCommand({
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
            {
              Put: {
                TableName: this.tables.actions,
                Item: {
                  ...entry,
                  accountId: FUND,
                  actionKey: `DRAW#${incidentId}#${accountId}`,
                  drawnFor: accountId,
                },
                ConditionExpression: 'attribute_not_exists(actionKey)',
              },
            },
          ],
        }),
      );
      return true;
    } catch (e) {
      if ((e as { name?: string }).name === 'TransactionCanceledException') return false;
      throw e;
    }
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
