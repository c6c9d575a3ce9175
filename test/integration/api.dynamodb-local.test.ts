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
let tables: Awaited<ReturnType<typeof createTables>>;
const publisher = new CapturedPublisher();

beforeAll(async () => {
  db = await testDynamoDb();
  client = localClient(db.endpoint);
  tables = await createTables(client, db.prefix('api'));
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
    // Stored as validated (canonical decimals, only the fields given), not as sent.
    expect(ok.body.updated).toEqual({
      thresholds: { warning: '2.5', critical: '1.8', liquidation: '1.3' },
      riskContext: { volatilityRegime: 'crisis' },
    });
    const shown = await call('GET', '/accounts/{id}/thresholds', { id: 'A1' });
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

  const preview = async (kind: 'deleverage' | 'liquidate', query: Record<string, string> = {}) =>
    (await call('GET', '/accounts/{id}/plan', { id: 'A1', query: { kind, ...query } })).body;

  it('manual deleverage is keyed by the previewed plan: the same plan confirmed twice is one request, audited', async () => {
    const missing = await call('POST', '/accounts/{id}/deleverage', {
      id: 'A1',
      body: { reason: 'desk call' },
    });
    expect(missing.body.issues).toContainEqual({ field: 'body.planId', message: expect.any(String) });
    const plan = await preview('deleverage', { targetRatio: '3' });
    expect(plan.planId).toMatch(/^plan-[A-Za-z0-9_-]{32}$/);
    // The same data and options preview the same plan (a second tab sees the same id).
    expect((await preview('deleverage', { targetRatio: '3' })).planId).toBe(plan.planId);
    expect((await preview('deleverage', { targetRatio: '2.8' })).planId).not.toBe(plan.planId);
    const body = { planId: plan.planId, reason: 'desk asked to cut risk', targetRatio: '3' };
    const before = publisher.types().filter((t) => t === 'DeleverageRequested').length;
    const first = await call('POST', '/accounts/{id}/deleverage', { id: 'A1', body });
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ planId: plan.planId, status: 'published' });
    expect(first.body.event.detailType).toBe('DeleverageRequested');
    expect(first.body.event.detail.requestedBy).toBe('manual');
    const again = await call('POST', '/accounts/{id}/deleverage', { id: 'A1', body });
    expect(again.status).toBe(200);
    expect(again.body.event).toEqual(first.body.event);
    expect(publisher.types().filter((t) => t === 'DeleverageRequested')).toHaveLength(before + 1);
    const actions = await call('GET', '/accounts/{id}/actions', { id: 'A1' });
    const entry = actions.body.items.find((a: { action: string }) => a.action === 'manual-deleverage');
    expect(entry).toMatchObject({
      actor: 'api:arn:aws:iam::123456789012:user/ops',
      details: { planId: plan.planId, reason: 'desk asked to cut risk' },
    });
  });

  it('two confirmations of one plan at the same moment (two tabs) publish it once', async () => {
    const plan = await preview('deleverage', { targetRatio: '2.9' });
    const body = { planId: plan.planId, reason: 'two tabs, one decision', targetRatio: '2.9' };
    const before = publisher.types().filter((t) => t === 'DeleverageRequested').length;
    const results = await Promise.all(
      [1, 2, 3].map(() => call('POST', '/accounts/{id}/deleverage', { id: 'A1', body })),
    );
    expect(results.map((r) => r.status).every((s) => s === 200 || s === 202)).toBe(true);
    for (const r of results) expect(r.body.event).toEqual(results[0]!.body.event);
    expect(publisher.types().filter((t) => t === 'DeleverageRequested')).toHaveLength(before + 1);
  });

  it('a plan older than its prices is refused with plan-stale and a fresh plan; nothing is sent', async () => {
    const plan = await preview('deleverage', { targetRatio: '3.1' });
    const doc = DynamoDBDocumentClient.from(client);
    await doc.send(
      new PutCommand({
        TableName: tables.prices,
        Item: { instrument: 'XYZ', price: '109', priceTime: new Date().toISOString() },
      }),
    );
    const before = publisher.types().length;
    const body = { planId: plan.planId, reason: 'confirmed after the market moved', targetRatio: '3.1' };
    const stale = await call('POST', '/accounts/{id}/deleverage', { id: 'A1', body });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({
      error: 'plan-stale',
      plan: { kind: 'deleverage', targetRatio: '3.1' },
    });
    expect(stale.body.plan.planId).not.toBe(plan.planId);
    expect(stale.body.plan.orders[0]).toMatchObject({ instrument: 'XYZ', referencePrice: '109' });
    expect(publisher.types()).toHaveLength(before);
    // Other options than the preview's are another plan, refused the same way.
    const other = await call('POST', '/accounts/{id}/deleverage', {
      id: 'A1',
      body: { ...body, planId: stale.body.plan.planId, targetRatio: '3.2' },
    });
    expect(other.body.error).toBe('plan-stale');
    const fresh = await call('POST', '/accounts/{id}/deleverage', {
      id: 'A1',
      body: { ...body, planId: stale.body.plan.planId },
    });
    expect(fresh.status).toBe(202);
  });

  it('manual liquidation closes everything', async () => {
    const plan = await preview('liquidate');
    const r = await call('POST', '/accounts/{id}/liquidate', {
      id: 'A1',
      body: { planId: plan.planId, reason: 'account closed by compliance' },
    });
    expect(r.body.event.detailType).toBe('LiquidationRequested');
    expect(r.body.event.detail.orders).toEqual([
      expect.objectContaining({ instrument: 'XYZ', side: 'SELL', quantity: '100' }),
    ]);
  });

  it('bodies: too large is a 413 naming the limit, malformed JSON a 400 that does not echo the parser', async () => {
    const huge = JSON.stringify({ reason: 'x'.repeat(300 * 1024) });
    const big = await call('POST', '/accounts/{id}/hold', { id: 'A1', body: huge });
    expect(big).toMatchObject({ status: 413, body: { error: 'body-too-large' } });
    expect(big.body.message).toMatch(/at most 262144/);
    // The acknowledgement page's form too (it is read as a form, not JSON).
    const form = await call('POST', '/ack', { body: `token=${'x'.repeat(300 * 1024)}` });
    expect(form).toMatchObject({ status: 413, body: { error: 'body-too-large' } });
    const broken = await call('POST', '/accounts/{id}/hold', { id: 'A1', body: '{"reason": "wire <script>' });
    expect(broken).toEqual({
      status: 400,
      body: { error: 'invalid-input', issues: [{ field: 'body', message: 'not valid JSON' }] },
    });
    expect((await call('GET', '/accounts/{id}/risk', { id: 'A1' })).body.hold).toBeNull();
  });

  it('a console sign-in that cannot be checked acts on nothing (403), and the body cannot name the actor', async () => {
    const provider =
      'cognito-idp.eu-west-2.amazonaws.com/eu-west-2_AbC123xyz,cognito-idp.eu-west-2.amazonaws.com/eu-west-2_AbC123xyz:CognitoSignIn:3f2b8c1e-9a4d-4e5f-8a6b-0c1d2e3f4a5b';
    const event = {
      httpMethod: 'POST',
      resource: '/accounts/{id}/hold',
      pathParameters: { id: 'A1' },
      queryStringParameters: null,
      body: JSON.stringify({ reason: 'not checked' }),
      requestContext: {
        identity: { cognitoAuthenticationType: 'authenticated', cognitoAuthenticationProvider: provider },
      },
    };
    const { route } = await import('../../functions/api/router.ts');
    const refused = await route(event as never, deps);
    expect(refused.statusCode).toBe(403);
    expect(JSON.parse(refused.body).error).toBe('identity-unverified');
    expect((await call('GET', '/accounts/{id}/risk', { id: 'A1' })).body.hold).toBeNull();
    const forged = await call('POST', '/accounts/{id}/hold', {
      id: 'A1',
      body: { reason: 'who am I', actor: 'ceo@broker.example' },
    });
    expect(forged.body.issues).toContainEqual({ field: 'body.actor', message: expect.any(String) });
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
