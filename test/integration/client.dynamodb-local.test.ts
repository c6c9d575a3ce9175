/**
 * margin-guard/client against the real API router on DynamoDB Local, behind a local HTTP server that
 * checks each request's SigV4 signature the way API Gateway's IAM authorization does: it signs the request
 * it received (method, path, query, headers, body) again with the caller's credentials and compares — so a
 * client that signed anything other than what it sent is refused, as on AWS.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MarginGuardApiError, MarginGuardClient } from '../../client/index.ts';
import { apiDeps } from '../../functions/api/handler.ts';
import { route } from '../../functions/api/router.ts';
import { ROUTES } from '../../functions/api/routes.ts';
import { BandRepository } from '../../functions/lib/bands-repository.ts';
import { RiskRepository } from '../../functions/lib/risk-repository.ts';
import { createTables, localClient } from '../../local/tables.ts';
import { evaluateAccount } from '../../functions/lib/evaluate-account.ts';
import { Tally } from '../../functions/lib/telemetry.ts';
import { DEFAULT_PIPELINE_CONFIG } from '../../shared/pipeline/config.ts';
import { CapturedDeadLetter, CapturedPublisher } from '../helpers/capture.ts';
import { testDynamoDb, type TestDynamoDb } from '../helpers/dynamodb.ts';

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
let db: TestDynamoDb;
let evaluate: (accountId: string) => Promise<unknown>;
let server: Server;
let endpoint: string;
const refused: string[] = [];

/** The resource template (e.g. /accounts/{id}/positions/{instrument}) and parameters of a path. */
function match(method: string, path: string) {
  for (const r of ROUTES) {
    if (r.method !== method) continue;
    const names: string[] = [];
    const pattern = new RegExp(
      `^${r.path.replace(/\{(\w+)\}/g, (_, n: string) => (names.push(n), '([^/]+)'))}$`,
    );
    const m = pattern.exec(path);
    if (m)
      return {
        resource: r.path,
        params: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)])),
      };
  }
  return null;
}

beforeAll(async () => {
  db = await testDynamoDb();
  const client = localClient(db.endpoint);
  const tables = await createTables(client, db.prefix('client'));
  const repo = new RiskRepository(client, tables);
  const deps = apiDeps(client, tables, {
    repo,
    bands: new BandRepository(client, tables.bands, 2),
    publisher: new CapturedPublisher(),
    stage: 'prod',
  });
  evaluate = (accountId) =>
    evaluateAccount(accountId, {
      store: repo,
      bands: new BandRepository(client, tables.bands, 2),
      publisher: new CapturedPublisher(),
      deadLetter: new CapturedDeadLetter(),
      config: DEFAULT_PIPELINE_CONFIG,
      telemetry: new Tally(),
    });
  const verifier = new SignatureV4({
    service: 'execute-api',
    region: 'eu-west-1',
    credentials,
    sha256: Sha256,
  });
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = chunks.length ? Buffer.concat(chunks).toString('utf8') : undefined;
      const url = new URL(req.url!, `http://${req.headers.host}`);
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(
          ([k]) => k === 'host' || k === 'content-type' || k.startsWith('x-amz-'),
        ),
      ) as Record<string, string>;
      const date = headers['x-amz-date'] ?? '';
      const expected = await verifier.sign(
        new HttpRequest({
          method: req.method!,
          protocol: 'http:',
          hostname: url.hostname,
          port: Number(url.port),
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          headers,
          body,
        }),
        {
          signingDate: new Date(
            `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
          ),
        },
      );
      if (expected.headers.authorization !== req.headers.authorization) {
        refused.push(`${req.method} ${url.pathname}`);
        res.writeHead(403, { 'content-type': 'application/json' });
        return res.end(
          JSON.stringify({ error: 'signature-mismatch', message: 'The request signature does not match' }),
        );
      }
      const stagePath = url.pathname.replace(/^\/prod/, '');
      const found = match(req.method!, stagePath);
      if (!found) {
        res.writeHead(404, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: 'not-found', message: stagePath }));
      }
      const event = {
        httpMethod: req.method,
        resource: found.resource,
        pathParameters: found.params,
        queryStringParameters: url.searchParams.size ? Object.fromEntries(url.searchParams) : null,
        body: body ?? null,
        requestContext: { identity: { userArn: 'arn:aws:iam::123456789012:role/broker-feed' } },
      } as unknown as APIGatewayProxyEvent;
      const out = await route(event, deps);
      res.writeHead(out.statusCode, out.headers as Record<string, string>);
      res.end(out.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prod/`;
}, 120_000);
afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await db?.stop();
});

describe('margin-guard/client', () => {
  it('feeds an account, its book and prices, signed, and reads its margin back', async () => {
    const mg = new MarginGuardClient({ endpoint, region: 'eu-west-1', credentials });
    expect(await mg.setCash('C2', 1, '5')).toEqual({
      status: 'unknown-account',
      message: 'no account C2 yet: its AccountUpserted must come first',
    });
    expect(await mg.putAccount('C1', 1, { model: 'reg-t', cash: '-20000' })).toEqual({
      status: 'applied',
      sequence: 1,
    });
    expect(await mg.putPosition('C1', 'SPY', 2, { quantity: '100', avgCost: '400' })).toEqual({
      status: 'applied',
      sequence: 2,
    });
    expect(await mg.closePosition('C1', 'SPY', 2)).toEqual({
      status: 'stale',
      message: "sequence 2 is not newer than position C1/SPY's 2",
    });
    expect(
      await mg.postPrices([{ instrument: 'SPY', price: '400', priceTime: new Date().toISOString() }]),
    ).toEqual({ stored: 1, stale: 0 });
    await evaluate('C1'); // what the account and position streams do after each write
    // Reg T: equity 40,000 − 20,000 = 20,000; maintenance 25% of 40,000 = 10,000.
    expect(await mg.margin('C1')).toMatchObject({
      equity: '20000',
      maintenanceRequirement: '10000',
      marginRatio: '2',
    });
    expect(refused).toEqual([]);
  });

  it('a bad update throws with every bad field; a wrong key is refused by the signature check', async () => {
    const mg = new MarginGuardClient({ endpoint, region: 'eu-west-1', credentials });
    const error = await mg.putPosition('C1', 'QQQ', 3, { quantity: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MarginGuardApiError);
    expect(error).toMatchObject({
      status: 400,
      code: 'invalid-input',
      issues: [{ field: 'body.position.quantity', message: 'not a decimal number: "x"' }],
    });
    const forged = new MarginGuardClient({
      endpoint,
      region: 'eu-west-1',
      credentials: { ...credentials, secretAccessKey: 'wrong' },
    });
    await expect(forged.risk('C1')).rejects.toMatchObject({ status: 403, code: 'signature-mismatch' });
    expect(refused).toEqual(['GET /prod/accounts/C1/risk']);
  });
});
