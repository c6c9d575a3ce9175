import { ACCOUNTS_PER_MESSAGE } from '../../../functions/lib/queues.ts';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { makePositionStreamHandler } from '../../../functions/position-stream/handler.ts';
import { makePriceStreamHandler } from '../../../functions/price-stream/handler.ts';
import type { HandlerDeps } from '../../../functions/lib/runtime.ts';
import { Tally } from '../../../functions/lib/telemetry.ts';
import { DEFAULT_PIPELINE_CONFIG } from '../../../shared/pipeline/config.ts';
import { CapturedDeadLetter, CapturedPublisher, CapturedWorkQueue } from '../../helpers/capture.ts';

/** `crossed`: accounts the band index returns for an instrument's tick; `holders`: the holdings index. */
function deps(
  crossed: Record<string, string[]> = {},
  failing = new Set<string>(),
  holders: Record<string, string[]> = {},
) {
  const evaluated: string[] = [];
  const deadLetter = new CapturedDeadLetter();
  const store = {
    getAccount: async (id: string) => {
      evaluated.push(id);
      if (failing.has(id)) throw new Error('throttled');
      return null;
    },
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
      async *holders(instrument: string) {
        yield holders[instrument] ?? [];
      },
    },
    bands: {
      shards: 1,
      getBandSummary: async () => null,
      writeBands: async () => {},
      crossedAccounts: async ({ instrument }: { instrument: string }) => ({
        bounded: crossed[instrument] ?? [],
        unbanded: [],
      }),
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
  return { d, evaluated, deadLetter };
}

const record = (
  seq: string,
  name: 'INSERT' | 'MODIFY' | 'REMOVE',
  keys: object,
  newImage?: object,
  oldImage?: object,
): DynamoDBRecord =>
  ({
    eventID: `ev${seq}`,
    eventName: name,
    dynamodb: {
      SequenceNumber: seq,
      Keys: marshall(keys),
      ...(newImage ? { NewImage: marshall(newImage) } : {}),
      ...(oldImage ? { OldImage: marshall(oldImage) } : {}),
    },
  }) as unknown as DynamoDBRecord;

describe('position-stream handler', () => {
  it('coalesces records per account and reports every record of a failed account', async () => {
    const { d, evaluated } = deps({}, new Set(['B']));
    const out = await makePositionStreamHandler(() => d)({
      Records: [
        record('1', 'INSERT', { accountId: 'A', instrument: 'X' }),
        record('2', 'MODIFY', { accountId: 'B', instrument: 'X' }),
        record('3', 'REMOVE', { accountId: 'A', instrument: 'Y' }),
        record('4', 'MODIFY', { accountId: 'B', instrument: 'Z' }),
      ],
    });
    expect(evaluated.sort()).toEqual(['A', 'B']);
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: '2' }, { itemIdentifier: '4' }]);
  });

  it('dead-letters a poison record instead of blocking the shard', async () => {
    const { d, deadLetter } = deps();
    const out = await makePositionStreamHandler(() => d)({
      Records: [record('1', 'INSERT', { wrong: 'key' })],
    });
    expect(out.batchItemFailures).toEqual([]);
    expect(deadLetter.records.map((r) => r.reason)).toEqual(['invalid-position-record']);
  });
});

describe('price-stream handler', () => {
  const tick = (seq: string, price: string, time: string, old?: string) =>
    record(
      seq,
      'MODIFY',
      { instrument: 'SPY' },
      { instrument: 'SPY', price, priceTime: time },
      old ? { instrument: 'SPY', price: '1', priceTime: old } : undefined,
    );

  it('fans a price out to the accounts whose band it crossed, once per account across the batch', async () => {
    const { d, evaluated } = deps({ SPY: ['A', 'B'], QQQ: ['B'] });
    await makePriceStreamHandler(() => d)({
      Records: [
        tick('1', '400', '2026-01-01T00:00:01Z'),
        tick('2', '401', '2026-01-01T00:00:02Z'),
        record(
          '3',
          'MODIFY',
          { instrument: 'QQQ' },
          { instrument: 'QQQ', price: '5', priceTime: '2026-01-01T00:00:02Z' },
        ),
      ],
    });
    expect(evaluated.sort()).toEqual(['A', 'B']);
  });

  it('a venue’s mark price, when published, is the price the guard bands are checked at; a bad mark is named', async () => {
    const { d, deadLetter } = deps({ 'BTC-PERP': ['A'] });
    const asked: string[] = [];
    const bands = d.bands as unknown as {
      crossedAccounts: (t: { instrument: string; price: string }) => Promise<unknown>;
    };
    const original = bands.crossedAccounts.bind(bands);
    bands.crossedAccounts = (t) => {
      asked.push(t.price);
      return original(t);
    };
    const tickWithMark = (seq: string, mark: string) =>
      record(
        seq,
        'MODIFY',
        { instrument: 'BTC-PERP' },
        { instrument: 'BTC-PERP', price: '4106.98', markPrice: mark, priceTime: `2026-01-01T00:00:0${seq}Z` },
      );
    await makePriceStreamHandler(() => d)({ Records: [tickWithMark('1', '4890.5')] });
    expect(asked).toEqual(['4890.5']);
    await makePriceStreamHandler(() => d)({ Records: [tickWithMark('2', '-1')] });
    expect(deadLetter.records[0]).toMatchObject({ reason: 'invalid-price-record' });
    expect(JSON.stringify(deadLetter.records[0]!.issues)).toContain('markPrice');
  });

  it('ignores a tick older than the stored price', async () => {
    const { d, evaluated } = deps({ SPY: ['A'] });
    await makePriceStreamHandler(() => d)({
      Records: [tick('1', '400', '2026-01-01T00:00:01Z', '2026-01-01T00:00:05Z')],
    });
    expect(evaluated).toEqual([]);
    expect((d.telemetry as Tally).counts.get('StaleTicksIgnored')).toBe(1);
  });

  it('a deleted price evaluates every holder (no tick will reach them again), found through the holdings index', async () => {
    const { d, evaluated, deadLetter } = deps({ SPY: ['A'] }, new Set(), { SPY: ['A', 'B', 'C'] });
    const out = await makePriceStreamHandler(() => d)({
      Records: [record('2', 'REMOVE', { instrument: 'SPY' }), record('3', 'REMOVE', {})],
    });
    expect(evaluated.sort()).toEqual(['A', 'B', 'C']);
    expect(out.batchItemFailures).toEqual([]);
    expect(deadLetter.records.map((r) => r.reason)).toEqual(['invalid-price-record']); // a removal without keys
  });

  it('dead-letters zero, negative and malformed prices', async () => {
    const { d, deadLetter, evaluated } = deps({ SPY: ['A'] });
    await makePriceStreamHandler(() => d)({
      Records: [
        tick('1', '0', '2026-01-01T00:00:01Z'),
        tick('2', '-5', '2026-01-01T00:00:02Z'),
        tick('3', '400', 'yesterday'),
      ],
    });
    expect(deadLetter.records.map((r) => r.reason)).toEqual([
      'invalid-price-record',
      'invalid-price-record',
      'invalid-price-record',
    ]);
    expect(evaluated).toEqual([]);
  });

  it('sends a wide fan-out to the work queue in batches of ACCOUNTS_PER_MESSAGE (125)', async () => {
    expect(ACCOUNTS_PER_MESSAGE).toBe(125);
    const many = Array.from({ length: 290 }, (_, i) => `A${i}`);
    const { d, evaluated } = deps({ SPY: many });
    await makePriceStreamHandler(() => d)({ Records: [tick('1', '400', '2026-01-01T00:00:01Z')] });
    expect(evaluated).toEqual([]);
    expect(
      (d.workQueue as CapturedWorkQueue).messages.map((m) =>
        m.kind === 'accounts' ? m.accountIds.length : 0,
      ),
    ).toEqual([125, 125, 40]);
  });
});

describe('stream records are read strictly, and a poison record never fails its batch', () => {
  it('a price item with an attribute it does not define is dead-lettered, naming it', async () => {
    const { d, deadLetter, evaluated } = deps({ SPY: ['A'] });
    await makePriceStreamHandler(() => d)({
      Records: [
        record(
          '1',
          'MODIFY',
          { instrument: 'SPY' },
          { instrument: 'SPY', price: '400', priceTime: '2026-01-01T00:00:01Z', sesion: '24x7' },
        ),
      ],
    });
    expect(evaluated).toEqual([]);
    expect(deadLetter.records[0]!.issues).toEqual([
      { field: 'sesion', message: 'unknown key (did you mean "session"?)' },
    ]);
  });

  it('an image that has no plain form (a number beyond 2^53) is dead-lettered; the rest of the batch goes on', async () => {
    const { d, deadLetter, evaluated } = deps({ SPY: ['A'] });
    const poison = {
      eventID: 'ev1',
      eventName: 'MODIFY',
      dynamodb: {
        SequenceNumber: '1',
        Keys: { instrument: { S: 'SPY' } },
        NewImage: {
          instrument: { S: 'SPY' },
          price: { N: '1e30' },
          priceTime: { S: '2026-01-01T00:00:01Z' },
        },
      },
    } as unknown as DynamoDBRecord;
    const out = await makePriceStreamHandler(() => d)({
      Records: [
        poison,
        record(
          '2',
          'MODIFY',
          { instrument: 'SPY' },
          { instrument: 'SPY', price: '400', priceTime: '2026-01-01T00:00:02Z' },
        ),
      ],
    });
    expect(out.batchItemFailures).toEqual([]);
    expect(deadLetter.records).toHaveLength(1);
    expect(deadLetter.records[0]!.issues).toEqual([
      { field: 'NewImage', message: expect.stringMatching(/^unreadable: /) },
    ]);
    expect(evaluated).toEqual(['A']);
  });

  it('position records whose keys carry more than the table’s keys are dead-lettered, naming them', async () => {
    const { d, deadLetter, evaluated } = deps();
    const out = await makePositionStreamHandler(() => d)({
      Records: [
        record('1', 'INSERT', { accountId: 'A', instrument: 'X', acountId: 'B' }),
        record('2', 'INSERT', { accountId: 'A', instrument: 'X' }),
      ],
    });
    expect(out.batchItemFailures).toEqual([]);
    expect(deadLetter.records[0]!.issues).toEqual([
      { field: 'Keys.acountId', message: 'unknown key (did you mean "accountId"?)' },
    ]);
    expect(evaluated).toEqual(['A']);
  });
});
