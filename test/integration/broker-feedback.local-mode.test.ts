import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startLocalSystem } from '../../local/local-system.ts';
import { Decimal } from '../../shared/decimal.ts';
import type { EventDetail } from '../../shared/events/schemas.ts';
import { parsePricesCsv } from '../../shared/replay/prices-csv.ts';
import { sharedLocalDynamoDb } from '../helpers/dynamodb.ts';

// Reg T, 100 XYZ at a flat 100 with 6,500 borrowed: equity 3,500, maintenance 2,500, ratio 1.4 (CRITICAL)
// until orders fill. Back to SAFE needs 3,500 / (25 · (100 − q)) ≥ 2.05 ⇔ q ≥ 32 (a little more with fees).
const bars = parsePricesCsv(
  ['date,instrument,close', ...['02', '03', '04', '05', '06', '09'].map((d) => `2026-03-${d},XYZ,100`)].join(
    '\n',
  ),
  'flat.csv',
);
const scenario = {
  accounts: [
    {
      account: { id: 'R', model: 'reg-t', cash: '-6500' },
      positions: [{ instrument: 'XYZ', quantity: '100', avgCost: '100' }],
    },
  ],
};

describe('broker feedback on DynamoDB Local: rejections and part fills are re-planned, keys never resubmitted', () => {
  it('the first order rejected, the next a quarter filled: two re-plans, then the account is back to SAFE', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'mg-broker-'));
    const system = await startLocalSystem({
      scenario,
      bars,
      outDir,
      dynamoDb: sharedLocalDynamoDb('broker'),
      broker: {
        reject: (_o, n) => (n === 0 ? 'insufficient shortable inventory' : null),
        // A quarter of the first re-plan: 100 − q/4 still leaves the ratio under 1.55 (CRITICAL).
        fillFraction: (_o, n) => new Decimal(n === 1 ? '0.25' : '1'),
      },
    });
    try {
      const result = await system.replay();
      const requests = result.timeline; // for the failure message
      const published = (
        system.api.publisher as unknown as {
          published: { detailType: string; detail: EventDetail<'DeleverageRequested'> }[];
        }
      ).published.filter((e) => e.detailType === 'DeleverageRequested');
      const steps = published.map((e) => e.detail.step);
      expect(steps.slice(0, 3), JSON.stringify(requests.map((t) => `${t.date} ${t.text}`))).toEqual([
        'deleverage',
        'deleverage-r1',
        'deleverage-r2',
      ]);
      const keys = published.flatMap((e) => e.detail.orders.map((o) => o.idempotencyKey));
      expect(new Set(keys).size).toBe(keys.length);
      expect(result.broker.resubmitted).toBe(0);
      const audit = await system.api.actions.listAudit('R', 200);
      const actions = audit.map((a) => a.action);
      expect(actions).toEqual(
        expect.arrayContaining(['order-rejected', 'order-cancelled', 'order-filled', 'deleverage-replanned']),
      );
      // Requested vs filled, in the audit trail.
      const partial = audit.find((a) => a.action === 'order-cancelled')!;
      expect(
        new Decimal(partial.details!.filled as string)
          .times(2)
          .lessThanOrEqualTo(new Decimal(partial.details!.requested as string)),
      ).toBe(true);
      expect(new Decimal(partial.details!.filled as string).isPositive()).toBe(true);
      // Restored: the second re-plan fills in full, and the account is SAFE again.
      const levels = result.timeline.filter((t) => t.kind === 'level').map((t) => t.text);
      expect(levels.at(-1)).toMatch(/^CRITICAL → SAFE/);
      expect(published).toHaveLength(3);
    } finally {
      await system.stop();
    }
  }, 120_000);
});

describe('bankruptcy accounting on DynamoDB Local', () => {
  it('a liquidation that leaves CRYPTO-PERP flat and negative draws the deficit from the insurance fund; the ledger balances', async () => {
    const scenario = {
      accounts: [
        {
          account: { id: 'CRYPTO-PERP', model: 'tiered', cash: '3000.00' },
          positions: [
            {
              instrument: 'BTC-PERP',
              quantity: '1',
              avgCost: '9500',
              assetClass: 'crypto',
              leverage: '5',
              lotSize: '0.001',
            },
          ],
        },
      ],
    };
    // Real BTC closes: 11 March 7,911.43, 12 March 4,970.79 — a loss of about 4,530 on 3,000 of collateral.
    const btc = parsePricesCsv(
      [
        'date,instrument,close',
        '2026-03-10,BTC-PERP,7911.43',
        '2026-03-11,BTC-PERP,4970.79',
        '2026-03-12,BTC-PERP,5563.71',
      ].join('\n'),
      'btc.csv',
    );
    const system = await startLocalSystem({
      scenario,
      bars: btc,
      outDir: mkdtempSync(join(tmpdir(), 'mg-fund-')),
      dynamoDb: sharedLocalDynamoDb('fund'),
    });
    try {
      await system.replay();
      const audit = await system.api.actions.listAudit('CRYPTO-PERP', 200);
      const draw = audit.find((a) => a.action === 'insurance-fund-draw')!;
      expect(draw, JSON.stringify(audit.map((a) => a.action))).toBeDefined();
      const { loss, fromCollateral, fromFund, balanceBefore } = draw.details as Record<string, string>;
      // The whole collateral went, the deficit came from the fund, and they add up to the loss.
      expect(fromCollateral).toBe('3000');
      expect(new Decimal(fromFund!).equals(new Decimal(balanceBefore!).negated())).toBe(true);
      expect(new Decimal(fromCollateral!).plus(new Decimal(fromFund!)).equals(new Decimal(loss!))).toBe(true);
      // The account is not left negative.
      expect((await system.api.repo.getAccount('CRYPTO-PERP'))!.cash).toBe('0');
      // And the venue gets the instrument's ADL queue (empty here: nobody else holds BTC-PERP).
      const published = (
        system.api.publisher as unknown as { published: { detailType: string; detail: unknown }[] }
      ).published;
      expect(published.find((e) => e.detailType === 'AdlQueuePublished')).toMatchObject({
        detail: { accountId: 'CRYPTO-PERP', instrument: 'BTC-PERP', long: [], short: [] },
      });
    } finally {
      await system.stop();
    }
  }, 120_000);
});
