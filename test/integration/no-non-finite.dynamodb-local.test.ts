/**
 * No decimal field of any output ever carries "NaN" or "Infinity": every REST route's response for a set
 * of books that divide by zero somewhere (flat at zero equity, flat with a debit, levered at exactly zero
 * equity, bankrupt, fully paid, hedged), every event the pipeline published for them, and every stored
 * risk state, scanned on DynamoDB Local through the real handlers.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiDeps } from '../../functions/api/handler.ts';
import { ROUTES, type ApiDeps } from '../../functions/api/routes.ts';
import { SettingsRepository } from '../../functions/lib/actions-repository.ts';
import { BandRepository } from '../../functions/lib/bands-repository.ts';
import { evaluateAccount } from '../../functions/lib/evaluate-account.ts';
import { OverviewRepository } from '../../functions/lib/overview-repository.ts';
import { RiskRepository } from '../../functions/lib/risk-repository.ts';
import { Tally } from '../../functions/lib/telemetry.ts';
import { refreshSummary } from '../../functions/summary/handler.ts';
import { createTables, localClient } from '../../local/tables.ts';
import { testDynamoDb, type TestDynamoDb } from '../helpers/dynamodb.ts';
import { DEFAULT_PIPELINE_CONFIG } from '../../shared/pipeline/config.ts';
import { callApi } from '../helpers/api-call.ts';
import { CapturedDeadLetter, CapturedPublisher } from '../helpers/capture.ts';
import { nonFiniteDecimals } from '../helpers/non-finite.ts';

const NOW = new Date('2026-11-24T15:00:00.000Z');
const BOOKS: { account: Record<string, unknown>; positions: Record<string, unknown>[] }[] = [
  { account: { accountId: 'FLAT-ZERO', model: 'reg-t', cash: '0' }, positions: [] },
  { account: { accountId: 'FLAT-DEBIT', model: 'gross', cash: '-250' }, positions: [] },
  {
    account: { accountId: 'FLAT-QTY', model: 'tiered', cash: '0' },
    positions: [{ instrument: 'BTC-PERP', quantity: '0', avgCost: '9500', assetClass: 'crypto' }],
  },
  {
    account: { accountId: 'ZERO-EQUITY', model: 'reg-t', cash: '-10000' },
    positions: [{ instrument: 'XYZ', quantity: '100', avgCost: '100' }],
  },
  {
    account: { accountId: 'BANKRUPT', model: 'tiered', cash: '100' },
    positions: [
      { instrument: 'BTC-PERP', quantity: '1', avgCost: '12000', assetClass: 'crypto', leverage: '5' },
    ],
  },
  {
    account: { accountId: 'CASH-PAID', model: 'cash', cash: '0' },
    positions: [{ instrument: 'XYZ', quantity: '10', avgCost: '90' }],
  },
  {
    account: { accountId: 'HEDGED', model: 'portfolio', cash: '-5000' },
    positions: [
      { instrument: 'XYZ', quantity: '100', avgCost: '100' },
      { instrument: 'SH', quantity: '100', avgCost: '30', leverageFactor: '-1' },
    ],
  },
  {
    account: { accountId: 'LEVERED', model: 'gross', cash: '-7000' },
    positions: [{ instrument: 'XYZ', quantity: '100', avgCost: '100' }],
  },
];
const PRICES = { XYZ: '100', SH: '30', 'BTC-PERP': '9000' };

let db: TestDynamoDb;
let client: DynamoDBClient;
let deps: ApiDeps;
const publisher = new CapturedPublisher();
let repo: RiskRepository;

beforeAll(async () => {
  db = await testDynamoDb();
  client = localClient(db.endpoint);
  const tables = await createTables(client, db.prefix('nonfinite'));
  repo = new RiskRepository(client, tables);
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
  for (const [instrument, price] of Object.entries(PRICES))
    await put('prices', { instrument, price, priceTime: NOW.toISOString() });
  const evaluator = {
    store: repo,
    bands: new BandRepository(client, tables.bands, 2),
    publisher,
    deadLetter: new CapturedDeadLetter(),
    config: DEFAULT_PIPELINE_CONFIG,
    telemetry: new Tally(),
    now: () => NOW,
  };
  for (const { account, positions } of BOOKS) {
    await put('accounts', account);
    for (const p of positions) await put('positions', { accountId: account.accountId, ...p });
    await evaluateAccount(account.accountId as string, evaluator);
  }
  await refreshSummary({
    overview: new OverviewRepository(client, tables),
    settings: new SettingsRepository(client, tables.settings),
    now: () => NOW,
  });
}, 120_000);
afterAll(async () => db?.stop());

describe('no NaN or Infinity in any output', () => {
  it('every GET route, for every book', async () => {
    const found: string[] = [];
    let scanned = 0;
    for (const r of ROUTES.filter((x) => x.method === 'GET' && !x.public)) {
      const ids = r.path.startsWith('/instruments/')
        ? Object.keys(PRICES)
        : r.path.includes('{id}')
          ? BOOKS.map((b) => b.account.accountId as string)
          : [undefined];
      const queries = r.path.endsWith('/plan')
        ? [{ kind: 'deleverage' }, { kind: 'liquidate' }]
        : [undefined];
      for (const id of ids)
        for (const query of queries) {
          const out = await callApi(deps, 'GET', r.path, { id, query });
          expect(out.status, `${r.path} ${id}: ${JSON.stringify(out.body)}`).toBeLessThan(500);
          if (out.status !== 200) continue;
          scanned += 1;
          found.push(...nonFiniteDecimals(out.body).map((p) => `${r.path} ${id ?? ''}: ${p}`));
        }
    }
    expect(found).toEqual([]);
    expect(scanned).toBeGreaterThan(BOOKS.length * 8);
  });

  it('the margin of a flat account: leverage 0, no ratio, distance none (not now)', async () => {
    const margin = await callApi(deps, 'GET', '/accounts/{id}/margin', { id: 'FLAT-ZERO' });
    expect(margin.body).toMatchObject({
      leverage: '0',
      marginRatio: null,
      distanceToCall: { call: { move: null }, zeroEquity: { move: null } },
    });
    const list = await callApi(deps, 'GET', '/accounts', { query: { limit: '50' } });
    const flat = list.body.items.find((i: { accountId: string }) => i.accountId === 'FLAT-ZERO');
    expect(flat).toMatchObject({ callMove: null, zeroEquityMove: null, marginRatio: null });
  });

  it('every event published and every stored risk state', async () => {
    expect(publisher.events.length).toBeGreaterThan(0);
    expect(nonFiniteDecimals(publisher.events)).toEqual([]);
    for (const { account } of BOOKS) {
      const state = await repo.getRiskState(account.accountId as string);
      expect(state, account.accountId as string).not.toBeNull();
      expect(nonFiniteDecimals(state)).toEqual([]);
    }
  });
});
