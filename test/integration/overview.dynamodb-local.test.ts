import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiDeps } from '../../functions/api/handler.ts';
import type { ApiDeps } from '../../functions/api/routes.ts';
import { ActionsRepository, SettingsRepository } from '../../functions/lib/actions-repository.ts';
import { BandRepository } from '../../functions/lib/bands-repository.ts';
import { evaluateAccount } from '../../functions/lib/evaluate-account.ts';
import { OverviewRepository } from '../../functions/lib/overview-repository.ts';
import { RiskRepository } from '../../functions/lib/risk-repository.ts';
import { Tally } from '../../functions/lib/telemetry.ts';
import { refreshSummary } from '../../functions/summary/handler.ts';
import { createTables, localClient } from '../../local/tables.ts';
import { testDynamoDb, type TestDynamoDb } from '../helpers/dynamodb.ts';
import { DEFAULT_PIPELINE_CONFIG } from '../../shared/pipeline/config.ts';
import { callApi, type ApiCall } from '../helpers/api-call.ts';
import { CapturedDeadLetter, CapturedPublisher } from '../helpers/capture.ts';

let db: TestDynamoDb;
let client: DynamoDBClient;
let deps: ApiDeps;
let tables: Awaited<ReturnType<typeof createTables>>;
const publisher = new CapturedPublisher();
const NOW = new Date('2026-11-24T15:00:00.000Z');
const call = (method: string, resource: string, options?: ApiCall) =>
  callApi(deps, method, resource, options);

// Reg T, 100 XYZ at 100: equity 10,000 + cash, maintenance 25% = 2,500, ratio (10,000 + cash) / 2,500.
// cash = −8,000 + 250k gives ratios 0.8, 0.9, …, 3.7 (k = 0 … 29); R-FLAT holds nothing (no requirement).
const CASHES = Array.from({ length: 30 }, (_, k) => -8000 + 250 * k);
const idOf = (k: number) => `R${String(k).padStart(2, '0')}`;
const ratioOf = (k: number) => (10_000 + CASHES[k]!) / 2_500;
const levelOf = (r: number) => (r < 1.2 ? 'LIQUIDATION' : r < 1.5 ? 'CRITICAL' : r <= 2 ? 'WARNING' : 'SAFE');

beforeAll(async () => {
  db = await testDynamoDb();
  client = localClient(db.endpoint);
  tables = await createTables(client, db.prefix('overview'));
  const repo = new RiskRepository(client, tables);
  deps = apiDeps(client, tables, {
    repo,
    bands: new BandRepository(client, tables.bands, 2),
    publisher,
    stage: 'test',
  });
  deps.now = () => NOW;
  const doc = DynamoDBDocumentClient.from(client);
  const put = (t: keyof typeof tables, Item: Record<string, unknown>) =>
    doc.send(new PutCommand({ TableName: tables[t], Item }));
  await put('prices', { instrument: 'XYZ', price: '100', priceTime: NOW.toISOString() });
  const ids = [...CASHES.keys()].map(idOf);
  for (const [k, id] of ids.entries()) {
    await put('accounts', { accountId: id, model: 'reg-t', cash: String(CASHES[k]) });
    await put('positions', { accountId: id, instrument: 'XYZ', quantity: '100', avgCost: '100' });
  }
  await put('accounts', { accountId: 'R-FLAT', model: 'reg-t', cash: '5000' });
  const evaluator = {
    store: repo,
    bands: new BandRepository(client, tables.bands, 2),
    publisher,
    deadLetter: new CapturedDeadLetter(),
    config: DEFAULT_PIPELINE_CONFIG,
    telemetry: new Tally(),
    now: () => NOW,
  };
  for (const id of [...ids, 'R-FLAT']) await evaluateAccount(id, evaluator);
  const actions = new ActionsRepository(client, tables.actions, () => new Date(NOW.getTime() - 3_600_000));
  await actions.audit({ accountId: 'R00', action: 'hold', actor: 'test' });
  await actions.setHold({
    accountId: 'R00',
    reason: 'client wiring funds',
    by: 'test',
    at: NOW.toISOString(),
  });
  const old = new ActionsRepository(client, tables.actions, () => new Date(NOW.getTime() - 2 * 86_400_000));
  await old.audit({ accountId: 'R01', action: 'hold', actor: 'test' });
}, 120_000);
afterAll(async () => db?.stop());

async function allPages(query: Record<string, string>) {
  const rows: { accountId: string; level: string; marginRatio: string | null }[] = [];
  let next: string | undefined;
  let pages = 0;
  do {
    const page = await call('GET', '/accounts', { query: { ...query, ...(next ? { next } : {}) } });
    expect(page.status).toBe(200);
    rows.push(...page.body.items);
    next = page.body.next ?? undefined;
    pages += 1;
  } while (next);
  return { rows, pages };
}

describe('GET /accounts (the overview index)', () => {
  it('lists every account exactly once across pages: worst level first, lowest ratio first within it', async () => {
    const { rows, pages } = await allPages({ limit: '4' });
    expect(pages).toBeGreaterThanOrEqual(8);
    const expected = [...CASHES.keys()]
      .map((k) => ({ accountId: idOf(k), level: levelOf(ratioOf(k)), ratio: ratioOf(k) }))
      .sort(
        (a, b) =>
          ['LIQUIDATION', 'CRITICAL', 'WARNING', 'SAFE'].indexOf(a.level) -
            ['LIQUIDATION', 'CRITICAL', 'WARNING', 'SAFE'].indexOf(b.level) || a.ratio - b.ratio,
      );
    // The flat account has no requirement: SAFE, no ratio, last of its level.
    expect(rows.map((r) => r.accountId)).toEqual([...expected.map((e) => e.accountId), 'R-FLAT']);
    expect(rows.map((r) => r.level)).toEqual([...expected.map((e) => e.level), 'SAFE']);
    expect(rows.find((r) => r.accountId === 'R00')).toMatchObject({
      marginRatio: '0.8',
      equity: '2000',
      maintenanceRequirement: '2500',
      inMarginCall: true,
      hold: { reason: 'client wiring funds' },
      incidentId: expect.any(String),
    });
    expect(rows.at(-1)).toMatchObject({ accountId: 'R-FLAT', marginRatio: null, callMove: null });
  });

  it('filters by level and sorts by distance to the call, descending on request', async () => {
    const critical = await allPages({ level: 'CRITICAL', limit: '2' });
    expect(critical.rows.map((r) => r.marginRatio)).toEqual(['1.2', '1.3', '1.4']);
    const two = await allPages({ level: 'CRITICAL,LIQUIDATION', sort: 'distance', order: 'desc' });
    // Reg T call at ratio 1: the move to the call is (1 − 1/ratio)·ratio… shrinks with the ratio; in a call it is 0.
    const distances = two.rows.map((r) => r.accountId);
    expect(distances.slice(0, 3)).toEqual(['R06', 'R05', 'R04']);
    expect(distances.slice(3).sort()).toEqual(['R00', 'R01', 'R02', 'R03']);
  });

  it('names a bad query field and rejects a forged page token', async () => {
    expect(await call('GET', '/accounts', { query: { level: 'PANIC' } })).toMatchObject({
      status: 400,
      body: { error: 'invalid-input', issues: [{ field: expect.stringMatching(/^query\.level/) }] },
    });
    expect(await call('GET', '/accounts', { query: { next: 'bm9wZQ' } })).toMatchObject({
      status: 400,
      body: { message: 'query.next: not a token from a previous page of this listing' },
    });
  });
});

describe('risk history', () => {
  it('keeps two evaluations written at the same instant as two entries (keyed by time and version)', async () => {
    const doc = DynamoDBDocumentClient.from(client);
    const repo = new RiskRepository(client, tables);
    const evaluate = () =>
      evaluateAccount('R29', {
        store: repo,
        bands: new BandRepository(client, tables.bands, 2),
        publisher: new CapturedPublisher(),
        deadLetter: new CapturedDeadLetter(),
        config: DEFAULT_PIPELINE_CONFIG,
        telemetry: new Tally(),
        now: () => NOW,
      });
    // R29 moves from SAFE (3.7) to LIQUIDATION (cash −8,000 → ratio 0.8) at the very same instant.
    await doc.send(
      new PutCommand({
        TableName: tables.accounts,
        Item: { accountId: 'R29', model: 'reg-t', cash: '-8000' },
      }),
    );
    await evaluate();
    const history = await call('GET', '/accounts/{id}/history', { id: 'R29' });
    expect(history.body.items.map((i: { at: string; marginRatio: string }) => [i.at, i.marginRatio])).toEqual(
      [
        [NOW.toISOString(), '0.8'],
        [NOW.toISOString(), '3.7'],
      ],
    );
    // Put it back for the summary below.
    await doc.send(
      new PutCommand({
        TableName: tables.accounts,
        Item: { accountId: 'R29', model: 'reg-t', cash: String(CASHES[29]) },
      }),
    );
    await evaluate();
  });
});

describe('GET /summary', () => {
  it('is 404 until the summary job has run, then counts every level with exact totals', async () => {
    expect((await call('GET', '/summary')).status).toBe(404);
    const settings = new SettingsRepository(client, tables.settings);
    await refreshSummary({ overview: new OverviewRepository(client, tables), settings, now: () => NOW });
    const summary = await call('GET', '/summary');
    const counts = { LIQUIDATION: 0, CRITICAL: 0, WARNING: 0, SAFE: 1, UNRATED: 0 } as Record<string, number>;
    for (const k of CASHES.keys()) counts[levelOf(ratioOf(k))]! += 1;
    // Equity: Σ (10,000 + cash) over 30 accounts + 5,000 flat = 300,000 − 240,000 + 250·435 + 5,000.
    expect(summary.body).toMatchObject({
      asOf: NOW.toISOString(),
      accounts: 31,
      byLevel: counts,
      totalEquity: String(300_000 - 240_000 + 250 * 435 + 5_000),
      totalGrossExposure: String(30 * 10_000),
      inMarginCall: 2,
      // The hold an hour ago counts; the one two days ago does not.
      actionsLast24h: { total: 1, byAction: { hold: 1 } },
    });
    expect(summary.body.openIncidents).toBe(counts.LIQUIDATION! + counts.CRITICAL! + counts.WARNING!);
  });
});

describe('GET /accounts/{id}/plan', () => {
  it('shows the orders and projected ratio and publishes nothing', async () => {
    const before = publisher.events.length;
    const preview = await call('GET', '/accounts/{id}/plan', { id: 'R04', query: { targetRatio: '2.5' } });
    // R04: equity 3,000, 100 XYZ at 100 (ratio 1.2). Selling q at 100 keeps equity (no fees configured)
    // and leaves maintenance 25·(100 − q): 3,000 / (25·(100 − q)) ≥ 2.5 ⇔ q ≥ 52.
    expect(preview).toMatchObject({
      status: 200,
      body: {
        accountId: 'R04',
        kind: 'deleverage',
        marginRatio: '1.2',
        targetRatio: '2.5',
        orders: [{ instrument: 'XYZ', side: 'SELL' }],
      },
    });
    expect(preview.body.orders[0].idempotencyKey).toBeUndefined();
    expect(publisher.events.length).toBe(before);
    expect((await call('GET', '/accounts/{id}/plan', { id: 'R04', query: { kind: 'close' } })).status).toBe(
      400,
    );
  });
});

describe('GET /instruments/{id}/adl', () => {
  it('ranks the profitable holders of an instrument: the most leveraged winner first', async () => {
    const doc = DynamoDBDocumentClient.from(client);
    // XYZ marked at 110 (last trade 100): every long bought at 100 is 10% up; leverage 11,000 / equity.
    await doc.send(
      new PutCommand({
        TableName: tables.prices,
        Item: {
          instrument: 'XYZ',
          price: '100',
          markPrice: '110',
          priceTime: new Date(NOW.getTime() + 1000).toISOString(),
        },
      }),
    );
    const adl = await call('GET', '/instruments/{id}/adl', { id: 'XYZ' });
    expect(adl.status).toBe(200);
    expect(adl.body.markPrice).toBe('110');
    expect(adl.body.short).toEqual([]);
    expect(adl.body.long).toHaveLength(30);
    // R00 has the least equity (2,000): leverage 5.5, score 0.1 × 5.5 = 0.55, first in line.
    expect(adl.body.long[0]).toMatchObject({
      accountId: 'R00',
      quantile: 5,
      score: '0.55',
      effectiveLeverage: '5.5',
    });
    expect(adl.body.long.at(-1)).toMatchObject({ accountId: 'R29', quantile: 1 });
    expect((await call('GET', '/instruments/{id}/adl', { id: 'NOPE' })).status).toBe(404);
  });
});
