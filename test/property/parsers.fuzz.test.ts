/**
 * Every parser at an edge, fed arbitrary JSON and mutations of valid inputs (deleted keys, wrong types,
 * extra and misspelt keys, non-decimal strings, huge and negative numbers): the outcome is always the
 * input accepted, or a validation error naming each bad field — exit 2, a 400, a dead letter — and never
 * an exception escaping (no TypeError on any input).
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import type { APIGatewayProxyEvent, DynamoDBRecord } from 'aws-lambda';
import fc from 'fast-check';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main.ts';
import { handleBrokerFeedback, type FeedbackDeps } from '../../functions/broker-feedback/handler.ts';
import { handleIngestEvent } from '../../functions/ingest/handler.ts';
import { route } from '../../functions/api/router.ts';
import { ROUTES, type ApiDeps } from '../../functions/api/routes.ts';
import type { HandlerDeps } from '../../functions/lib/runtime.ts';
import { Tally } from '../../functions/lib/telemetry.ts';
import { makePositionStreamHandler } from '../../functions/position-stream/handler.ts';
import { makePriceStreamHandler } from '../../functions/price-stream/handler.ts';
import { handleWebSocket, type WebSocketEvent } from '../../functions/websocket/handler.ts';
import { parseScenario } from '../../local/scenario.ts';
import { formatPath, InputError, type FieldIssue } from '../../shared/errors.ts';
import { parseBrokerEvent } from '../../shared/events/broker-feedback.ts';
import { evaluate, parseEvaluationInput } from '../../shared/margin/evaluate.ts';
import { ParsedInputCache } from '../../shared/margin/parse-cache.ts';
import { evaluationToJson } from '../../shared/margin/serialize.ts';
import { assessAccount } from '../../shared/pipeline/assess.ts';
import { DEFAULT_PIPELINE_CONFIG } from '../../shared/pipeline/config.ts';
import type { AccountItem, PositionItem } from '../../shared/pipeline/records.ts';
import { parsePricesCsv } from '../../shared/replay/prices-csv.ts';
import { CapturedDeadLetter, CapturedPublisher, CapturedWorkQueue } from '../helpers/capture.ts';
import {
  badInputs,
  expectNamedIssues,
  FUZZ_RUNS,
  mutationsOf,
  parsesOrNames,
  withUnknownKey,
} from '../helpers/mutations.ts';
import { nonFiniteDecimals } from '../helpers/non-finite.ts';

const root = join(import.meta.dirname, '..', '..');
const examples = readdirSync(join(root, 'examples'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(root, 'examples', f), 'utf8')) as Record<string, unknown>);
const runs = { numRuns: FUZZ_RUNS };

/** Books where a careless parser or a division by zero goes wrong: flat, at zero equity, whole units only. */
const EDGE_BOOKS = [
  { account: { id: 'F0', model: 'reg-t', cash: '0' }, positions: [] },
  { account: { id: 'F1', model: 'gross', cash: '-250' }, positions: [] },
  {
    account: { id: 'Z0', model: 'reg-t', cash: '-1000' },
    positions: [{ instrument: 'XYZ', quantity: '100', price: '10', fractional: false }],
  },
  {
    account: { id: 'W0', model: 'cash', cash: '1000' },
    positions: [{ instrument: 'XYZ', quantity: '10', price: '10', lotSize: '1', fractional: false }],
  },
];
const books = [...examples, ...EDGE_BOOKS];

describe('the engine and the CLI', () => {
  it('evaluate: an evaluation without NaN or Infinity, or an InputError naming every field', () => {
    const cache = new ParsedInputCache(64);
    fc.assert(
      fc.property(badInputs(books), (raw) => {
        const out = parsesOrNames(() => evaluationToJson(evaluate(raw)));
        if (!(out instanceof Error)) expect(nonFiniteDecimals(out)).toEqual([]);
        parsesOrNames(() => cache.parse(raw)); // the pipeline's cached parse
        parsesOrNames(() => parseEvaluationInput(raw, { model: 'portfolio' }));
      }),
      runs,
    );
  });

  it('a key a book does not define, anywhere in it, is refused by its path (never dropped)', () => {
    fc.assert(
      fc.property(withUnknownKey(books), ({ value, path }) => {
        const out = parsesOrNames(() => evaluate(value));
        expect(out).toBeInstanceOf(InputError);
        expect((out as InputError).issues.map((i) => i.field)).toContain(formatPath(path));
      }),
      runs,
    );
  });

  it('margin-guard evaluate and replay: exit 0, or exit 2 naming the fields; never 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mg-fuzz-'));
    const file = join(dir, 'in.json');
    const csv = join(dir, 'prices.csv');
    const prices = readFileSync(join(root, 'test', 'fixtures', 'five-x-path.csv'), 'utf8');
    const portfolios = [
      ...books,
      {
        account: { id: 'L5', model: 'gross', cash: '-22500' },
        positions: [{ instrument: 'XYZ', quantity: '325', avgCost: '100', price: '100' }],
        policy: { mode: 'full', execution: { feeRate: '0', slippageRate: '0' } },
      },
    ];
    const csvText = fc.oneof(
      fc.constant(prices),
      fc.string({ maxLength: 200 }),
      fc
        .tuple(fc.nat(), fc.string({ maxLength: 12 }))
        .map(([at, s]) => prices.slice(0, at % prices.length) + s + prices.slice(at % prices.length)),
    );
    fc.assert(
      fc.property(
        badInputs(portfolios),
        csvText,
        fc.constantFrom('json', 'table'),
        fc.boolean(),
        (raw, text, format, replay) => {
          writeFileSync(file, JSON.stringify(raw) ?? 'undefined');
          writeFileSync(csv, text);
          const r = replay
            ? runCli([
                'replay',
                '--portfolio',
                file,
                '--prices',
                csv,
                '--instrument',
                'XYZ',
                '--format',
                format,
              ])
            : runCli(['evaluate', file, '--format', format]);
          expect(r.stderr).not.toMatch(/unexpected failure/);
          expect([0, 2]).toContain(r.code);
          if (r.code === 2) expect(r.stderr).toMatch(/^invalid input:\n( {2}\S.*: .+\n)+$/);
          else if (format === 'json') expect(nonFiniteDecimals(JSON.parse(r.stdout))).toEqual([]);
        },
      ),
      { numRuns: Math.ceil(FUZZ_RUNS / 2) },
    );
  });

  it('price files: bars, or an InputError naming the line and column', () => {
    const valid = readFileSync(join(root, 'test', 'fixtures', 'crash-2020-ohlc.csv'), 'utf8');
    const lines = valid.split('\n');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc
            .tuple(fc.nat(), fc.string({ maxLength: 20 }))
            .map(([i, s]) => lines.map((l, j) => (j === i % lines.length ? s : l)).join('\n')),
        ),
        fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
        (text, instrument) => {
          parsesOrNames(() => parsePricesCsv(text, 'prices.csv', instrument));
        },
      ),
      runs,
    );
  });
});

describe('local mode', () => {
  it('scenario files: the scenario, or every bad field named under the file', () => {
    const crash = JSON.parse(readFileSync(join(root, 'local', 'scenarios', 'crash-2020.json'), 'utf8'));
    const small = {
      description: 'two books',
      accounts: crash.accounts.slice(0, 2),
      settings: {
        escalation: { waitSeconds: 60, policy: { strategy: 'proportional' } },
        alerts: { alertLevels: ['WARNING'] },
      },
    };
    fc.assert(
      fc.property(badInputs([small]), (raw) => {
        parsesOrNames(() => parseScenario(raw, 'scenario.json'), 'scenario.json');
      }),
      runs,
    );
  });
});

/** ApiDeps that throw a marker on any use: a request that reaches them passed validation. */
const REACHED = 'reached the dependencies';
const untouchable = new Proxy({} as ApiDeps, {
  get: () => {
    throw new Error(REACHED);
  },
});

const QUERY_KEYS: Record<string, string[]> = {
  '/accounts': ['level', 'sort', 'order', 'limit', 'next'],
  '/accounts/{id}/plan': ['kind', 'targetRatio', 'strategy', 'liquidationPriority'],
  '/accounts/{id}/history': ['limit', 'next'],
};

describe('REST API', () => {
  const event = (r: (typeof ROUTES)[number], body: string | null, query: Record<string, string> | null) =>
    ({
      httpMethod: r.method,
      resource: r.path,
      pathParameters: { id: 'A1' },
      queryStringParameters: query,
      body,
      requestContext: { identity: { userArn: 'arn:aws:iam::123456789012:user/ops' } },
    }) as unknown as APIGatewayProxyEvent;

  /** A 400 naming each field under `prefix`, or the request went on to the dependencies; never a crash. */
  async function expectValidatedOrNamed(r: (typeof ROUTES)[number], e: APIGatewayProxyEvent) {
    const logged: string[] = [];
    const out = await route(e, untouchable, (_msg, extra) => logged.push((extra as { error: string }).error));
    if (out.statusCode === 400) {
      const body = JSON.parse(out.body);
      expect(body.error).toBe('invalid-input');
      if (body.issues) expectNamedIssues(body.issues, /^(body|query)\b/);
      else expect(body.message).toMatch(/^(body|query|path)\.\S+: /);
    } else if (out.statusCode === 500) expect(logged).toEqual([REACHED]);
    else throw new Error(`${r.method} ${r.path}: unexpected ${out.statusCode} ${out.body}`);
  }

  const validBodies: Record<string, unknown[]> = {
    '/accounts/{id}/thresholds': [
      { thresholds: { warning: '2.5', critical: '1.8', liquidation: '1.3' } },
      { riskContext: { volatilityRegime: 'crisis' } },
    ],
    '/accounts/{id}/deleverage': [
      { planId: `plan-${'a'.repeat(32)}`, reason: 'too risky', targetRatio: '2', strategy: 'proportional' },
    ],
    '/accounts/{id}/liquidate': [
      { planId: `plan-${'b'.repeat(32)}`, reason: 'close it', liquidationPriority: 'size' },
    ],
    '/accounts/{id}/hold': [{ reason: 'client called' }],
    '/config': [{ waitSeconds: 60, policy: { strategy: 'risk-based', execution: { feeRate: '0.001' } } }],
    '/alerts': [{ alertLevels: ['WARNING', 'CRITICAL'], notifyResolved: false }],
    '/notifications': [{}],
  };

  for (const r of ROUTES.filter((x) => x.body)) {
    it(`${r.method} ${r.path}: its body validated, every bad field named (body.…)`, async () => {
      const valid = validBodies[r.path] ?? [{}];
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            badInputs(valid).map((v) => JSON.stringify(v) ?? null),
            fc.string({ maxLength: 40 }), // not JSON at all
          ),
          async (body) => expectValidatedOrNamed(r, event(r, body, null)),
        ),
        { numRuns: Math.ceil(FUZZ_RUNS / 3) },
      );
    });
  }

  it('query strings: validated, every bad or unknown parameter named (query.…)', async () => {
    const queried = ROUTES.filter((r) =>
      ['/accounts', '/accounts/{id}/plan', '/accounts/{id}/history'].includes(r.path),
    );
    const validQueries = [
      { level: 'WARNING,CRITICAL', sort: 'distance', order: 'desc', limit: '20' },
      { kind: 'liquidate', targetRatio: '2', strategy: 'proportional' },
      { limit: '10' },
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...queried),
        fc.oneof(
          fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 12 }), { maxKeys: 4 }),
          mutationsOf(validQueries).filter(
            (q): q is Record<string, string> =>
              typeof q === 'object' &&
              q !== null &&
              !Array.isArray(q) &&
              Object.values(q).every((v) => typeof v === 'string'),
          ),
        ),
        async (r, query) => {
          await expectValidatedOrNamed(r, event(r, null, query));
          // A parameter the route does not define is refused by name, never ignored.
          const unknown = Object.keys(query).filter((k) => !QUERY_KEYS[r.path]!.includes(k));
          if (unknown.length === 0) return;
          const out = await route(event(r, null, query), untouchable);
          expect(out.statusCode).toBe(400);
          const fields = JSON.parse(out.body).issues.map((i: { field: string }) => i.field);
          for (const k of unknown) expect(fields).toContain(formatPath(['query', k]));
        },
      ),
      { numRuns: Math.ceil(FUZZ_RUNS / 2) },
    );
  });

  it('websocket subscribe messages: a 400 naming the field, or subscribed', async () => {
    const deps = {
      connections: { put: async () => {}, remove: async () => {}, subscribe: async () => true },
      roles: { viewerRoleName: 'viewer', operatorRoleName: 'operator' },
      now: () => new Date(0),
    };
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          badInputs([{ action: 'subscribe', channels: ['margin'], accounts: ['A1'] }]).map(
            (v) => JSON.stringify(v) ?? '',
          ),
          fc.string({ maxLength: 30 }),
        ),
        async (body) => {
          const out = await handleWebSocket(
            {
              body,
              requestContext: { connectionId: 'c1', routeKey: 'subscribe' },
            } as unknown as WebSocketEvent,
            deps,
          );
          if (out.statusCode === 400) expectNamedIssues(JSON.parse(out.body!).issues, 'body');
          else expect(out.statusCode).toBe(200);
        },
      ),
      runs,
    );
  });
});

describe('broker events', () => {
  const envelope = {
    schemaVersion: '1',
    eventId: 'e1',
    accountId: 'A1',
    idempotencyKey: 'k1',
    occurredAt: '2026-03-02T15:00:00Z',
  };
  const valid = [
    { 'detail-type': 'OrderAccepted', detail: { ...envelope, brokerOrderId: 'b1' } },
    {
      'detail-type': 'OrderFilled',
      detail: {
        ...envelope,
        quantity: '10',
        cumulativeQuantity: '10',
        price: '99.5',
        fees: '0.1',
        final: true,
      },
    },
    { 'detail-type': 'OrderRejected', detail: { ...envelope, reason: 'no liquidity' } },
    { 'detail-type': 'OrderCancelled', detail: { ...envelope, reason: 'IOC', cumulativeQuantity: '0' } },
  ];

  it('the event, or a dead letter naming each bad field (detail.…, detail-type); never a throw', async () => {
    await fc.assert(
      fc.asyncProperty(badInputs(valid), async (raw) => {
        const event = raw as { 'detail-type': unknown; detail: unknown };
        const parsed = parseBrokerEvent(event?.['detail-type'], event?.detail);
        if (!parsed.ok) expectNamedIssues(parsed.issues, 'detail');
        const deadLetter = new CapturedDeadLetter();
        const d = {
          orders: { apply: async () => null },
          audit: async () => {},
          deadLetter,
          alerts: { dispatch: async () => {} },
          now: () => new Date(0),
        } as unknown as FeedbackDeps;
        await handleBrokerFeedback(raw as Parameters<typeof handleBrokerFeedback>[0], d);
        expect(deadLetter.records).toHaveLength(1); // invalid, or valid for an order never requested
        if (!parsed.ok) expect(deadLetter.records[0]!.issues).toEqual(parsed.issues);
      }),
      runs,
    );
  });
});

describe('ingestion events', () => {
  const v1 = { schemaVersion: 1, accountId: 'A1', sequence: 7 };
  const valid = [
    {
      ...v1,
      type: 'AccountUpserted',
      account: { model: 'reg-t', cash: '-100', params: { maintenanceRate: '0.3' } },
    },
    { ...v1, type: 'CashChanged', cash: '250.5' },
    { ...v1, type: 'PositionChanged', instrument: 'SPY', position: { quantity: '10', avgCost: '400' } },
    { ...v1, type: 'PositionChanged', instrument: 'SPY', closed: true },
    {
      ...v1,
      type: 'PositionsReplaced',
      positions: [{ instrument: 'SPY', quantity: '10', fractional: false }],
    },
    {
      schemaVersion: 1,
      type: 'PriceTicks',
      ticks: [{ instrument: 'SPY', price: '400', priceTime: '2026-03-02T15:00:00Z' }],
    },
  ];

  it('applied, or dead-lettered naming each bad field; never a throw', async () => {
    await fc.assert(
      fc.asyncProperty(badInputs(valid), fc.constantFrom('detail', 'type'), async (detail, typeFrom) => {
        const deadLetter = new CapturedDeadLetter();
        const type = (detail as { type?: unknown } | null)?.type;
        const out = await handleIngestEvent(
          {
            'detail-type': typeFrom === 'type' && typeof type === 'string' ? type : 'PositionChanged',
            detail,
          },
          {
            ingest: { apply: async () => ({ status: 'applied', positions: [] }) },
            prices: { putPriceIfNewer: async () => true },
            deadLetter,
            telemetry: new Tally(),
            log: { info: () => {} },
          },
        );
        if (out.status === 'invalid') {
          expect(deadLetter.records).toHaveLength(1);
          expectNamedIssues(deadLetter.records[0]!.issues as FieldIssue[]);
        } else expect(deadLetter.records).toEqual([]);
      }),
      runs,
    );
  });

  it('margin-guard import: exit 0, or exit 2 naming the file, line and field; never 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mg-fuzz-import-'));
    const [accounts, positions] = [join(dir, 'accounts.jsonl'), join(dir, 'positions.csv')];
    const validAccounts = [
      { id: 'A1', model: 'reg-t', cash: '-100' },
      { id: 'A2', model: 'gross', cash: '5', params: { maintenanceRate: '0.3' } },
    ];
    const validCsv = 'accountId,instrument,quantity,avgCost\nA1,SPY,10,400\nA2,QQQ,-3,300\n';
    fc.assert(
      fc.property(
        fc.array(badInputs(validAccounts), { maxLength: 4 }),
        fc.oneof(
          fc.constant(validCsv),
          fc.string({ maxLength: 120 }),
          fc
            .tuple(fc.nat(), fc.string({ maxLength: 12 }))
            .map(
              ([at, t]) => validCsv.slice(0, at % validCsv.length) + t + validCsv.slice(at % validCsv.length),
            ),
        ),
        (rows, csv) => {
          writeFileSync(accounts, rows.map((r) => JSON.stringify(r) ?? 'undefined').join('\n'));
          writeFileSync(positions, csv);
          const r = runCli(['import', '--accounts', accounts, '--positions', positions]);
          expect(r.stderr).not.toMatch(/unexpected failure/);
          expect([0, 2]).toContain(r.code);
          if (r.code === 2) expect(r.stderr).toMatch(/^invalid input:\n( {2}\S.*: .+\n)+$/);
        },
      ),
      { numRuns: Math.ceil(FUZZ_RUNS / 2) },
    );
  });
});

describe('stream records and stored items', () => {
  function handlerDeps() {
    const deadLetter = new CapturedDeadLetter();
    const store = {
      getAccount: async () => null,
      getPositions: async () => [],
      getPrices: async () => new Map(),
      getRiskState: async () => null,
      saveRiskState: async () => {},
      clearOutbox: async () => {},
    };
    const d = {
      store,
      repo: {
        ...store,
        async *holders() {
          yield [];
        },
      },
      bands: {
        shards: 1,
        getBandSummary: async () => null,
        writeBands: async () => {},
        crossedAccounts: async () => ({ bounded: [], unbanded: [] }),
      },
      publisher: new CapturedPublisher(),
      deadLetter,
      workQueue: new CapturedWorkQueue(),
      config: DEFAULT_PIPELINE_CONFIG,
      telemetry: new Tally(),
      env: { sweepSegments: 2, inlineFanoutLimit: 10 },
      log: { info: () => {}, warn: () => {}, error: () => {} },
      concurrency: 2,
    } as unknown as HandlerDeps;
    return { d, deadLetter };
  }

  /** A stream record: images marshalled from (mutated) items, or raw attribute maps that may be garbage. */
  const image = (valid: unknown[]) =>
    fc.oneof(
      badInputs(valid).map((v) => {
        try {
          return marshall(v as Record<string, unknown>, { removeUndefinedValues: true });
        } catch {
          return v; // what marshall refuses goes in raw
        }
      }),
      fc.jsonValue({ maxDepth: 3 }),
    );
  const price = { instrument: 'SPY', price: '410.25', priceTime: '2026-03-02T15:00:00Z', source: 'feed' };
  const records = (valid: unknown[]) =>
    fc.array(
      fc.record({
        eventName: fc.constantFrom('INSERT', 'MODIFY', 'REMOVE', 'BOGUS'),
        keys: image([{ accountId: 'A1', instrument: 'SPY' }, { accountId: 'A1' }, { instrument: 'SPY' }]),
        newImage: fc.option(image(valid), { nil: undefined }),
        oldImage: fc.option(image(valid), { nil: undefined }),
      }),
      { minLength: 1, maxLength: 4 },
    );
  const toRecords = (rs: { eventName: string; keys: unknown; newImage?: unknown; oldImage?: unknown }[]) =>
    rs.map(
      (r, i) =>
        ({
          eventID: `ev${i}`,
          eventName: r.eventName,
          dynamodb: {
            SequenceNumber: String(i),
            Keys: r.keys,
            ...(r.newImage !== undefined ? { NewImage: r.newImage } : {}),
            ...(r.oldImage !== undefined ? { OldImage: r.oldImage } : {}),
          },
        }) as unknown as DynamoDBRecord,
    );

  it('price-stream records: processed or dead-lettered naming the field; the batch never throws', async () => {
    await fc.assert(
      fc.asyncProperty(records([price, { ...price, markPrice: '410.3', session: '24x7' }]), async (rs) => {
        const { d, deadLetter } = handlerDeps();
        const out = await makePriceStreamHandler(() => d)({ Records: toRecords(rs) });
        expect(out.batchItemFailures).toEqual([]);
        for (const dl of deadLetter.records) expectNamedIssues(dl.issues as never[]);
      }),
      runs,
    );
  });

  it('position-stream records: coalesced or dead-lettered naming the key; the batch never throws', async () => {
    await fc.assert(
      fc.asyncProperty(records([{ accountId: 'A1', instrument: 'SPY', quantity: '1' }]), async (rs) => {
        const { d, deadLetter } = handlerDeps();
        const out = await makePositionStreamHandler(() => d)({ Records: toRecords(rs) });
        expect(out.batchItemFailures).toEqual([]);
        for (const dl of deadLetter.records) expectNamedIssues(dl.issues as never[], 'Keys');
      }),
      runs,
    );
  });

  it('stored accounts and positions: assessed, or an invalid-data problem naming the field', () => {
    const items = examples.map(({ account, positions }) => {
      const { id, ...rest } = account as Record<string, unknown>;
      return {
        account: { accountId: id, updatedAt: '2026-03-01T00:00:00Z', ...rest },
        positions: (positions as Record<string, unknown>[]).map(({ price: _p, ...p }) => ({
          accountId: id,
          ...p,
        })),
        prices: Object.fromEntries(
          (positions as { instrument: string; price: string }[]).map((p) => [
            p.instrument,
            { instrument: p.instrument, price: p.price, priceTime: '2026-03-02T15:00:00Z' },
          ]),
        ),
      };
    });
    fc.assert(
      fc.property(mutationsOf(items), (raw) => {
        const v = raw as { account?: unknown; positions?: unknown; prices?: unknown };
        const account = (
          typeof v?.account === 'object' && v.account !== null ? v.account : {}
        ) as AccountItem;
        const positions = (Array.isArray(v?.positions) ? v.positions : []).filter(
          (p): p is PositionItem => typeof p === 'object' && p !== null && !Array.isArray(p),
        );
        const prices = new Map(
          Object.entries(typeof v?.prices === 'object' && v.prices !== null ? v.prices : {}).flatMap(
            ([k, p]) => (typeof p === 'object' && p !== null ? [[k, p]] : []),
          ),
        ) as never;
        const a = assessAccount({
          account: { ...account, accountId: 'A1' },
          positions,
          prices,
          previous: null,
          now: new Date('2026-03-02T15:01:00Z'),
          config: DEFAULT_PIPELINE_CONFIG,
        });
        if (a.invalid) expectNamedIssues(a.invalid.issues, /^(account|positions)\b/);
        if (a.next.evaluation) expect(nonFiniteDecimals(a.next.evaluation)).toEqual([]);
        expect(nonFiniteDecimals(a.events)).toEqual([]);
      }),
      runs,
    );
  });
});
