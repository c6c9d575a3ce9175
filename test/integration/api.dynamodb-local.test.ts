import { BandRepository } from '../../functions/lib/bands-repository.ts';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiDeps } from '../../functions/api/handler.ts';
import type { ApiDeps } from '../../functions/api/routes.ts';
import { evaluateAccount } from '../../functions/lib/evaluate-account.ts';
import { RiskRepository } from '../../functions/lib/risk-repository.ts';
import { Tally } from '../../functions/lib/telemetry.ts';
import { createTables, localClient } from '../../local/tables.ts';
import { testDynamoDb, type TestDynamoDb } from '../helpers/dynamodb.ts';
import { DEFAULT_PIPELINE_CONFIG } from '../../shared/pipeline/config.ts';
import { callApi, type ApiCall } from '../helpers/api-call.ts';
import { CapturedDeadLetter, CapturedPublisher } from '../helpers/capture.ts';

let db: TestDynamoDb;
let client: DynamoDBClient;
let deps: ApiDeps;
let repo: RiskRepository;
const publisher = new CapturedPublisher();

beforeAll(async () => {
  db = await testDynamoDb();
  client = localClient(db.endpoint);
  const tables = await createTables(client, db.prefix('api'));
  repo = new RiskRepository(client, tables);
  deps = apiDeps(client, tables, {
    repo,
    bands: new BandRepository(client, tables.bands, 2),
    publisher,
    stage: 'test',
  });
  const doc = DynamoDBDocumentClient.from(client);
  const put = (t: keyof typeof tables, Item: Record<string, unknown>) =>
    doc.send(new PutCommand({ TableName: tables[t], Item }));
  await put('accounts', { accountId: 'A1', model: 'reg-t', cash: '-6500' });
  await put('positions', { accountId: 'A1', instrument: 'XYZ', quantity: '100', avgCost: '100' });
  await put('prices', { instrument: 'XYZ', price: '100', priceTime: new Date().toISOString() });
  const evaluator = {
    store: repo,
    bands: new BandRepository(client, tables.bands, 2),
    publisher,
    deadLetter: new CapturedDeadLetter(),
    config: DEFAULT_PIPELINE_CONFIG,
    telemetry: new Tally(),
  };
  let t = Date.now();
  for (const price of ['100', '90', '110']) {
    await put('prices', { instrument: 'XYZ', price, priceTime: new Date(t).toISOString() });
    await evaluateAccount('A1', { ...evaluator, now: () => new Date((t += 60_000)) });
  }
}, 120_000);
afterAll(async () => db?.stop());

const call = (method: string, resource: string, options?: ApiCall) =>
  callApi(deps, method, resource, options);

describe('REST API', () => {
  it('GET /status', async () => {
    expect(await call('GET', '/status')).toMatchObject({
      status: 200,
      body: { service: 'margin-guard', stage: 'test', ok: true },
    });
  });

  it('GET risk and margin; 404 for an unknown account, 400 for a bad id', async () => {
    const risk = await call('GET', '/accounts/{id}/risk', { id: 'A1' });
    expect(risk.status).toBe(200);
    expect(risk.body).toMatchObject({
      accountId: 'A1',
      level: expect.any(String),
      equity: expect.any(String),
      hold: null,
    });
    const margin = await call('GET', '/accounts/{id}/margin', { id: 'A1' });
    expect(margin.body).toMatchObject({
      accountId: 'A1',
      model: 'reg-t',
      maintenanceRequirement: expect.any(String),
    });
    expect((await call('GET', '/accounts/{id}/risk', { id: 'NOPE' })).status).toBe(404);
    expect(await call('GET', '/accounts/{id}/risk', { id: 'a b' })).toMatchObject({
      status: 400,
      body: { message: 'path.id: not a valid account id' },
    });
  });

  it('GET bands: the prices between which no tick can change the level; 404 before any evaluation', async () => {
    // A1 recovered to WARNING at 110 (4,500 / 2,750 = 1.64): it stays there while 100p − 6,500 ≥ 1.5 · 25p
    // (p ≥ 104) and 100p − 6,500 ≤ 2.05 · 25p (p ≤ 6,500 / 48.75 = 133.33…).
    expect(await call('GET', '/accounts/{id}/bands', { id: 'A1' })).toMatchObject({
      status: 200,
      body: {
        accountId: 'A1',
        unbanded: null,
        watched: false,
        evaluatedOnEveryTickOf: [],
        bands: [{ instrument: 'XYZ', low: '104.000000001', high: '133.333333333' }],
      },
    });
    expect((await call('GET', '/accounts/{id}/bands', { id: 'NOPE' })).status).toBe(404);
  });

  it('thresholds: validated, stored, shown with the effective (adjusted) values', async () => {
    const bad = await call('POST', '/accounts/{id}/thresholds', {
      id: 'A1',
      body: { thresholds: { warning: '1.5', critical: '1.6' } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.issues).toContainEqual({
      field: 'body.thresholds.critical',
      message: 'must be below warning (1.5)',
    });
    const ok = await call('POST', '/accounts/{id}/thresholds', {
      id: 'A1',
      body: {
        thresholds: { warning: '2.50', critical: '1.8', liquidation: '1.300' },
        riskContext: { volatilityRegime: 'crisis' },
      },
    });
    expect(ok.status).toBe(200);
    const shown = await call('GET', '/accounts/{id}/thresholds', { id: 'A1' });
    // Stored as validated (canonical decimals, only the fields given), not as sent.
    expect(ok.body.updated).toEqual({
      thresholds: { warning: '2.5', critical: '1.8', liquidation: '1.3' },
      riskContext: { volatilityRegime: 'crisis' },
    });
    expect(shown.body.configured).toEqual({ warning: '2.5', critical: '1.8', liquidation: '1.3' });
    expect(shown.body.effective).toEqual({
      warning: '3.25',
      critical: '2.34',
      liquidation: '1.69',
      hysteresis: '0.05',
    }); // × 1.3
  });

  it('history is paged newest first', async () => {
    const first = await call('GET', '/accounts/{id}/history', { id: 'A1', query: { limit: '2' } });
    expect(first.body.items).toHaveLength(2);
    expect(first.body.items[0].at > first.body.items[1].at).toBe(true);
    const second = await call('GET', '/accounts/{id}/history', {
      id: 'A1',
      query: { limit: '2', next: first.body.next },
    });
    expect(second.body.items).toHaveLength(1);
    expect(second.body.next).toBeNull();
    expect((await call('GET', '/accounts/{id}/history', { id: 'A1', query: { limit: '0' } })).status).toBe(
      400,
    );
    expect(
      (await call('GET', '/accounts/{id}/history', { id: 'A1', query: { next: '!!' } })).body.message,
    ).toBe('query.next: not a token from a previous page');
  });

  it('manual deleverage is idempotent by requestId and audited', async () => {
    const missing = await call('POST', '/accounts/{id}/deleverage', {
      id: 'A1',
      body: { reason: 'desk call' },
    });
    expect(missing.body.issues).toContainEqual({ field: 'body.requestId', message: expect.any(String) });
    const body = { requestId: 'req-00000001', reason: 'desk asked to cut risk', targetRatio: '3' };
    const first = await call('POST', '/accounts/{id}/deleverage', { id: 'A1', body });
    expect(first.status).toBe(202);
    expect(first.body.event.detailType).toBe('DeleverageRequested');
    expect(first.body.event.detail.requestedBy).toBe('manual');
    const again = await call('POST', '/accounts/{id}/deleverage', { id: 'A1', body });
    expect(again.status).toBe(200);
    expect(again.body.event).toEqual(first.body.event);
    expect(publisher.types().filter((t) => t === 'DeleverageRequested')).toHaveLength(1);
    const actions = await call('GET', '/accounts/{id}/actions', { id: 'A1' });
    expect(
      actions.body.items.map((a: { action: string; actor: string }) => `${a.action} ${a.actor}`),
    ).toContain('manual-deleverage api:arn:aws:iam::123456789012:user/ops');
  });

  it('manual liquidation closes everything', async () => {
    const r = await call('POST', '/accounts/{id}/liquidate', {
      id: 'A1',
      body: { requestId: 'req-liq-0001', reason: 'account closed by compliance' },
    });
    expect(r.body.event.detailType).toBe('LiquidationRequested');
    expect(r.body.event.detail.orders).toEqual([
      expect.objectContaining({ instrument: 'XYZ', side: 'SELL', quantity: '100' }),
    ]);
  });

  it('hold and release', async () => {
    expect(
      (await call('POST', '/accounts/{id}/hold', { id: 'A1', body: { reason: 'wire in flight' } })).status,
    ).toBe(200);
    expect((await call('GET', '/accounts/{id}/risk', { id: 'A1' })).body.hold).toMatchObject({
      reason: 'wire in flight',
    });
    expect((await call('DELETE', '/accounts/{id}/hold', { id: 'A1' })).body).toEqual({
      accountId: 'A1',
      released: true,
    });
    expect((await call('DELETE', '/accounts/{id}/hold', { id: 'A1' })).body.released).toBe(false);
  });

  it('config and alerts: defaults, validation, replacement', async () => {
    expect((await call('GET', '/config')).body).toMatchObject({
      waitSeconds: 300,
      policy: { strategy: 'risk-based' },
    });
    const bad = await call('PUT', '/config', { body: { waitSeconds: -1, policy: { strategy: 'yolo' } } });
    expect(bad.body.issues.map((i: { field: string }) => i.field).sort()).toEqual([
      'body.policy.strategy',
      'body.waitSeconds',
    ]);
    expect((await call('PUT', '/config', { body: { waitSeconds: 60 } })).body.waitSeconds).toBe(60);
    expect((await call('GET', '/config')).body.waitSeconds).toBe(60);
    expect((await call('PUT', '/alerts', { body: { pageLevels: ['CRITICAL', 'LIQUIDATION'] } })).status).toBe(
      200,
    );
    expect((await call('GET', '/alerts')).body.pageLevels).toEqual(['CRITICAL', 'LIQUIDATION']);
    expect((await call('PUT', '/alerts', { body: '{nope' })).body.issues).toEqual([
      { field: 'body', message: 'not valid JSON' },
    ]);
  });

  it('unknown routes and methods', async () => {
    expect((await call('GET', '/nope')).status).toBe(404);
    expect((await call('DELETE', '/status')).status).toBe(405);
  });
});
