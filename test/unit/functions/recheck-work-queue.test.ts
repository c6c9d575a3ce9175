import { describe, expect, it } from 'vitest';
import { MemoryBands, MemoryStore, memoryHandlerDeps } from '../../../bench/memory-store.ts';
import { evaluateAccount } from '../../../functions/lib/evaluate-account.ts';
import type { HandlerDeps } from '../../../functions/lib/runtime.ts';
import { makeWorkQueueHandler } from '../../../functions/work-queue/handler.ts';
import { CapturedPublisher } from '../../helpers/capture.ts';

describe('work-queue evaluation: the re-check after a band write', () => {
  it('catches a tick that lands between the evaluation’s price read and its band write (the segment’s price cache is bypassed)', async () => {
    // Prepare: a Reg T account, 100 SPY at 400 with 15,000 borrowed: equity 25,000, maintenance
    // 25% × 40,000 = 10,000, ratio 2.5 (SAFE), banded.
    const store = new MemoryStore();
    const bands = new MemoryBands();
    const publisher = new CapturedPublisher();
    store.accounts.set('A', { accountId: 'A', model: 'reg-t', cash: '-15000' } as never);
    store.positions.set('A', [
      { accountId: 'A', instrument: 'SPY', quantity: '100', avgCost: '400' },
    ] as never);
    store.prices.set('SPY', { instrument: 'SPY', price: '400', priceTime: '2026-01-05T14:30:00.000Z' });
    let now = new Date('2026-01-05T14:30:01.000Z');
    const deps: HandlerDeps = {
      ...memoryHandlerDeps(store, { sweepSegments: 1, concurrency: 1 }, bands),
      publisher,
      now: () => now,
    };
    await evaluateAccount('A', deps);
    expect((await bands.getBandSummary('A'))?.always).toBeNull();
    publisher.events.length = 0; // the first evaluation's own events (a level is recorded)

    // The account's cash moves (a small withdrawal: still SAFE), so a queued evaluation rewrites its
    // bands. While it runs, SPY ticks to 200 after the evaluation read prices and before its band write:
    // that tick's own query saw the old rows (which held 200 outside them, but the tick is taken as lost
    // to that query here), so only the evaluator's re-check can catch it. At 200: equity 5,000,
    // maintenance 5,000, ratio 1.0 (LIQUIDATION).
    store.accounts.set('A', { accountId: 'A', model: 'reg-t', cash: '-15100' } as never);
    const write = bands.writeBands.bind(bands);
    let raced = false;
    bands.writeBands = async (plan, orphans) => {
      if (!raced) {
        raced = true;
        now = new Date('2026-01-05T14:30:02.000Z');
        store.prices.set('SPY', { instrument: 'SPY', price: '200', priceTime: now.toISOString() });
      }
      return write(plan, orphans);
    };

    // Act: the queued evaluation, through the real work-queue handler (with its per-message price cache).
    const out = await makeWorkQueueHandler(() => deps)({
      Records: [
        {
          messageId: 'm',
          body: JSON.stringify({ kind: 'accounts', accountIds: ['A'], reason: 'account-changed' }),
        },
      ],
    } as never);

    // Assess: the level change was published.
    expect(out.batchItemFailures).toEqual([]);
    expect(raced).toBe(true);
    const changed = publisher.events.filter((e) => e.detailType === 'RiskLevelChanged');
    expect(changed.map((e) => (e.detail as { to: string }).to)).toEqual(['LIQUIDATION']);
  });
});

describe('work-queue evaluation: a batch publishes before it re-bands', () => {
  it('every level change of a message is published before any of its band writes (a crash queues on band writes)', async () => {
    // Four Reg T accounts, 100 SPY each at 400, borrowing 24,000: equity 16,000, maintenance 10,000,
    // ratio 1.6 (WARNING). SPY falls to 380: equity 14,000, maintenance 9,500, ratio 1.47 (CRITICAL).
    const store = new MemoryStore();
    const bands = new MemoryBands();
    const order: string[] = [];
    const ids = ['B1', 'B2', 'B3', 'B4'];
    for (const id of ids) {
      store.accounts.set(id, { accountId: id, model: 'reg-t', cash: '-24000' } as never);
      store.positions.set(id, [
        { accountId: id, instrument: 'SPY', quantity: '100', avgCost: '400' },
      ] as never);
    }
    store.prices.set('SPY', { instrument: 'SPY', price: '400', priceTime: '2026-01-05T14:30:00.000Z' });
    let now = new Date('2026-01-05T14:30:01.000Z');
    const deps: HandlerDeps = {
      ...memoryHandlerDeps(store, { sweepSegments: 1, concurrency: 2 }, bands),
      publisher: {
        publish: async (events) => {
          for (const e of events)
            if (e.detailType === 'RiskLevelChanged') order.push(`level:${e.detail.accountId}`);
        },
      },
      now: () => now,
    };
    for (const id of ids) await evaluateAccount(id, deps);
    now = new Date('2026-01-05T14:30:03.000Z');
    store.prices.set('SPY', { instrument: 'SPY', price: '380', priceTime: '2026-01-05T14:30:02.000Z' });
    order.length = 0;
    const write = bands.writeBands.bind(bands);
    bands.writeBands = async (plan, orphans) => {
      order.push(`bands:${plan.accountId}`);
      return write(plan, orphans);
    };
    const out = await makeWorkQueueHandler(() => deps)({
      Records: [
        { messageId: 'm', body: JSON.stringify({ kind: 'accounts', accountIds: ids, reason: 'prices:SPY' }) },
      ],
    } as never);
    expect(out.batchItemFailures).toEqual([]);
    expect(order.filter((o) => o.startsWith('level:')).sort()).toEqual(ids.map((id) => `level:${id}`));
    const firstBand = order.findIndex((o) => o.startsWith('bands:'));
    expect(firstBand).toBe(ids.length); // all four level changes, then the band writes
    for (const id of ids) expect((await bands.getBandSummary(id))!.rows.SPY!.high).not.toBeNull();
  });
});

describe('an evaluation that keeps losing races', () => {
  it('gives up with a retryable, coded error that the workflows retry as transient', async () => {
    const { RetryLaterError } = await import('../../../shared/errors.ts');
    const { classifyStepError } = await import('../../../functions/lib/step-errors.ts');
    const { VersionConflict } = await import('../../../functions/lib/risk-repository.ts');
    const store = new MemoryStore();
    store.accounts.set('A', { accountId: 'A', model: 'reg-t', cash: '1000' } as never);
    store.saveRiskState = async (state, expected) => {
      throw new VersionConflict(state.accountId, expected);
    };
    const error = await evaluateAccount(
      'A',
      memoryHandlerDeps(store, { sweepSegments: 1, concurrency: 1 }),
    ).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RetryLaterError);
    expect((error as InstanceType<typeof RetryLaterError>).code).toBe('evaluation-contended');
    expect((classifyStepError(error) as Error).name).toBe('TransientError');
  });
});
