import { describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../../functions/api/routes.ts';
import { handleBrokerFeedback, type FeedbackDeps } from '../../../functions/broker-feedback/handler.ts';
import { parseScenario } from '../../../local/scenario.ts';
import { assessAccount } from '../../../shared/pipeline/assess.ts';
import { DEFAULT_PIPELINE_CONFIG } from '../../../shared/pipeline/config.ts';
import { callApi } from '../../helpers/api-call.ts';
import { CapturedDeadLetter } from '../../helpers/capture.ts';

/** Just enough of the API's dependencies for the routes that store a settings document or a hold. */
function apiDeps() {
  const stored: unknown[] = [];
  const deps = {
    settings: { put: async (_k: string, v: unknown) => void stored.push(v) },
    actions: { audit: async () => {}, setHold: async () => {} },
    repo: { getAccount: async () => null, getRiskState: async () => null },
  } as unknown as ApiDeps;
  return { deps, stored };
}

describe('REST bodies and queries are strict', () => {
  it('a misspelt body key is named with a did-you-mean, beside the missing field', async () => {
    const { deps } = apiDeps();
    const out = await callApi(deps, 'POST', '/accounts/{id}/hold', { id: 'A1', body: { reasn: 'client' } });
    expect(out).toEqual({
      status: 400,
      body: {
        error: 'invalid-input',
        issues: [
          { field: 'body.reason', message: 'Invalid input: expected string, received undefined' },
          { field: 'body.reasn', message: 'unknown key (did you mean "reason"?)' },
        ],
      },
    });
  });

  it('an unknown query parameter is named, not ignored', async () => {
    const { deps } = apiDeps();
    const out = await callApi(deps, 'GET', '/accounts/{id}/history', { id: 'A1', query: { limt: '5' } });
    expect(out.status).toBe(400);
    expect(out.body.issues).toEqual([
      { field: 'query.limt', message: 'unknown key (did you mean "limit"?)' },
    ]);
  });

  it('an empty settings body is read once, as {}: stored as sent, not a crash on a second JSON.parse', async () => {
    const { deps, stored } = apiDeps();
    const out = await callApi(deps, 'PUT', '/alerts', { body: '' });
    expect(out.status).toBe(200);
    expect(stored).toEqual([{}]);
  });

  it('a thresholds body that is not JSON is a 400 naming the body', async () => {
    const { deps } = apiDeps();
    const out = await callApi(deps, 'POST', '/accounts/{id}/thresholds', { id: 'A1', body: '{' });
    expect(out).toEqual({
      status: 400,
      body: { error: 'invalid-input', issues: [{ field: 'body', message: 'not valid JSON' }] },
    });
  });
});

describe('broker events are strict', () => {
  const detail = {
    schemaVersion: '1',
    eventId: 'e1',
    accountId: 'A1',
    idempotencyKey: 'k1',
    occurredAt: '2026-03-02T15:00:00Z',
    brokerOrderId: 'b1',
  };
  const feedback = () => {
    const deadLetter = new CapturedDeadLetter();
    const d = { orders: { apply: async () => null }, deadLetter } as unknown as FeedbackDeps;
    return { d, deadLetter };
  };

  it('an event with a key its version does not define is dead-lettered, naming the key', async () => {
    const { d, deadLetter } = feedback();
    await handleBrokerFeedback(
      { 'detail-type': 'OrderAccepted', detail: { ...detail, brokerOrderID: 'b1' } },
      d,
    );
    expect(deadLetter.records).toEqual([
      {
        reason: 'broker-event-invalid',
        record: expect.anything(),
        issues: [{ field: 'detail.brokerOrderID', message: 'unknown key (did you mean "brokerOrderId"?)' }],
      },
    ]);
  });

  it('an unknown detail-type (even one named like an Object method) is named, not a TypeError', async () => {
    const { d, deadLetter } = feedback();
    await handleBrokerFeedback({ 'detail-type': 'toString', detail }, d);
    expect(deadLetter.records[0]!.issues).toEqual([
      {
        field: 'detail-type',
        message:
          'unknown detail-type "toString" (expected one of OrderAccepted, OrderFilled, OrderRejected, OrderCancelled)',
      },
    ]);
  });
});

describe('stored items carry exactly their keys and updatedAt besides the engine’s fields', () => {
  const assess = (account: Record<string, unknown>, position: Record<string, unknown>) =>
    assessAccount({
      account: { accountId: 'A1', model: 'reg-t', cash: '-1000', ...account },
      positions: [{ accountId: 'A1', instrument: 'SPY', quantity: '10', ...position }],
      prices: new Map([['SPY', { instrument: 'SPY', price: '400', priceTime: '2026-03-02T15:00:00Z' }]]),
      previous: null,
      now: new Date('2026-03-02T15:00:30Z'),
      config: DEFAULT_PIPELINE_CONFIG,
    });

  it('updatedAt is bookkeeping: allowed on accounts and positions', () => {
    const a = assess({ updatedAt: '2026-03-01T00:00:00Z' }, { updatedAt: '2026-03-01T00:00:00Z' });
    expect(a.invalid).toBeNull();
    expect(a.next.equity).toBe('3000');
  });

  it('any other attribute is an invalid-data problem naming it (not half the maintenance, silently)', () => {
    const a = assess({ houseMaintenanceRate: '0.5' }, { maintenaceRate: '0.5' });
    expect(a.invalid?.issues).toEqual([
      { field: 'account.houseMaintenanceRate', message: expect.stringMatching(/^unknown key/) },
      { field: 'positions[0].maintenaceRate', message: 'unknown key (did you mean "maintenanceRate"?)' },
    ]);
    expect(a.next.dataProblem?.kind).toBe('invalid-data');
  });
});

describe('scenario files are strict, every problem in one pass', () => {
  it('names a bad book, a misspelt setting and an unknown key together', () => {
    expect(() =>
      parseScenario(
        {
          accounts: [
            {
              account: { id: 'A', model: 'reg-t', cash: '1', params: { maintenaceRate: '0.3' } },
              positions: [{ instrument: 'X', quantity: 'abc', fractional: false }],
            },
          ],
          settings: { escalation: { waitSecond: 5 } },
          descripton: 'typo',
        },
        's.json',
      ),
    ).toThrow(
      [
        's.json.descripton: unknown key (did you mean "description"?)',
        's.json.settings.escalation.waitSecond: unknown key (did you mean "waitSeconds"?)',
        's.json.accounts[0].positions[0].quantity: not a decimal number: "abc"',
        's.json.accounts[0].account.params.maintenaceRate: unknown key (did you mean "maintenanceRate"?)',
      ].join('\n'),
    );
  });
});
