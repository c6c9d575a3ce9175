/**
 * The ingestion contract over the REST API on DynamoDB Local: the same updates as the bus events,
 * answered 200 applied, 409 stale or unknown-account, 400 naming every field.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiDeps } from '../../functions/api/handler.ts';
import type { ApiDeps } from '../../functions/api/routes.ts';
import { BandRepository } from '../../functions/lib/bands-repository.ts';
import { RiskRepository } from '../../functions/lib/risk-repository.ts';
import { createTables, localClient } from '../../local/tables.ts';
import { callApi, type ApiCall } from '../helpers/api-call.ts';
import { CapturedPublisher } from '../helpers/capture.ts';
import { testDynamoDb, type TestDynamoDb } from '../helpers/dynamodb.ts';

let db: TestDynamoDb;
let client: DynamoDBClient;
let deps: ApiDeps;
let repo: RiskRepository;

beforeAll(async () => {
  db = await testDynamoDb();
  client = localClient(db.endpoint);
  const tables = await createTables(client, db.prefix('ingest-api'));
  repo = new RiskRepository(client, tables);
  deps = apiDeps(client, tables, {
    repo,
    bands: new BandRepository(client, tables.bands, 2),
    publisher: new CapturedPublisher(),
    stage: 'test',
  });
}, 120_000);
afterAll(async () => db?.stop());

const call = (method: string, resource: string, options?: ApiCall) =>
  callApi(deps, method, resource, options);

describe('ingestion over the REST API', () => {
  it('creates an account, its book and prices; a stale update is a 409 naming why', async () => {
    expect(
      await call('PUT', '/accounts/{id}/cash', { id: 'H1', body: { sequence: 1, cash: '5' } }),
    ).toMatchObject({
      status: 409,
      body: { error: 'unknown-account' },
    });
    expect(
      await call('PUT', '/accounts/{id}', {
        id: 'H1',
        body: { sequence: 1, account: { model: 'reg-t', cash: '-5000' } },
      }),
    ).toEqual({ status: 200, body: { status: 'applied', sequence: 1 } });
    expect(
      await call('PUT', '/accounts/{id}/positions', {
        id: 'H1',
        body: {
          sequence: 2,
          positions: [
            { instrument: 'SPY', quantity: '40', avgCost: '400' },
            { instrument: 'QQQ', quantity: '10' },
          ],
        },
      }),
    ).toMatchObject({ status: 200 });
    expect(
      await call('DELETE', '/accounts/{id}/positions/{instrument}', {
        id: 'H1',
        path: { instrument: 'QQQ' },
        query: { sequence: '3' },
      }),
    ).toMatchObject({ status: 200 });
    expect(
      await call('PUT', '/accounts/{id}/positions/{instrument}', {
        id: 'H1',
        path: { instrument: 'QQQ' },
        body: { sequence: 3, position: { quantity: '99' } },
      }),
    ).toEqual({
      status: 409,
      body: { error: 'stale', message: "sequence 3 is not newer than position H1/QQQ's 3" },
    });
    const priceTime = '2026-03-02T15:00:00.000Z';
    expect(
      await call('POST', '/prices', { body: { ticks: [{ instrument: 'SPY', price: '400', priceTime }] } }),
    ).toEqual({ status: 200, body: { stored: 1, stale: 0 } });
    expect(
      await call('POST', '/prices', { body: { ticks: [{ instrument: 'SPY', price: '1', priceTime }] } }),
    ).toEqual({ status: 200, body: { stored: 0, stale: 1 } });
    const held = (await repo.getPositions('H1')).filter((p) => p.quantity !== '0').map((p) => p.instrument);
    expect(held).toEqual(['SPY']);
    expect((await repo.getPrices(['SPY'])).get('SPY')?.price).toBe('400');
  });

  it('a bad request is a 400 naming every field, body and path', async () => {
    const out = await call('PUT', '/accounts/{id}/positions/{instrument}', {
      id: 'H1',
      path: { instrument: 'SPY' },
      body: { sequence: -1, position: { quantity: 'x', price: '1' } },
    });
    expect(out.status).toBe(400);
    expect(out.body.issues.map((i: { field: string }) => i.field)).toEqual(
      expect.arrayContaining(['body.sequence']),
    );
    const engine = await call('PUT', '/accounts/{id}/positions/{instrument}', {
      id: 'H1',
      path: { instrument: 'SPY' },
      body: { sequence: 9, position: { quantity: 'x', price: '1' } },
    });
    expect(engine.body.issues).toEqual(
      expect.arrayContaining([
        { field: 'body.position.quantity', message: 'not a decimal number: "x"' },
        {
          field: 'body.position.price',
          message: 'prices come from POST /prices (the price feed), not the position',
        },
      ]),
    );
    expect(
      await call('PUT', '/accounts/{id}', { id: 'bad id', body: { sequence: 1, account: {} } }),
    ).toMatchObject({
      status: 400,
    });
  });
});
