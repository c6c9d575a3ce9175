import { describe, expect, it } from 'vitest';
import { alertApproaching } from '../../../functions/lib/approaching.ts';
import type { Alert } from '../../../shared/notify/alert.ts';
import { notificationPolicySchema } from '../../../shared/notify/policy.ts';
import type { AccountItem } from '../../../shared/pipeline/records.ts';

const written = (accountId: string) => ({
  table: 'riskState' as const,
  oldImage: null,
  newImage: {
    accountId,
    version: 2,
    level: 'SAFE',
    marginRatio: '2.03',
    equity: '20300',
    evaluatedAt: '2026-03-02T15:00:00Z',
    dataProblem: null,
    tracker: { incident: null },
    evaluation: null,
  },
});

describe('predictive alerts from written states', () => {
  it('skip an account whose stored item has since become invalid, and still alert the others', async () => {
    const accounts: Record<string, AccountItem> = {
      GOOD: { accountId: 'GOOD', model: 'reg-t', cash: '0' },
      BAD: { accountId: 'BAD', model: 'reg-t', cash: '0', cassh: '1' },
    };
    const sent: Alert[] = [];
    const n = await alertApproaching([written('BAD'), written('GOOD')], {
      policy: async () => notificationPolicySchema.parse({ fatigue: { approachingFraction: '0.05' } }),
      getAccount: async (id) => accounts[id] ?? null,
      dispatch: async (a) => void sent.push(a),
    });
    expect(n).toBe(1);
    expect(sent.map((a) => a.accountId)).toEqual(['GOOD']);
  });
});
