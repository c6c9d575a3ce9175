import { describe, expect, it } from 'vitest';
import { MemoryBands, MemoryStore, memoryHandlerDeps } from '../../../bench/memory-store.ts';
import { evaluateAccount } from '../../../functions/lib/evaluate-account.ts';
import type { HandlerDeps } from '../../../functions/lib/runtime.ts';
import { makeWorkQueueHandler } from '../../../functions/work-queue/handler.ts';
import { ALWAYS_LOW, insideStoredBands, planBandWrite } from '../../../shared/bands/band-rows.ts';
import { Decimal } from '../../../shared/decimal.ts';
import { assessAccount } from '../../../shared/pipeline/assess.ts';
import { DEFAULT_PIPELINE_CONFIG } from '../../../shared/pipeline/config.ts';
import { CapturedPublisher } from '../../helpers/capture.ts';

/**
 * An account with one stale price among fresh ones is banded on the fresh ones and pinned (an
 * always-evaluate row) on the stale one, instead of being evaluated on every tick of everything it holds.
 */
const NOW = new Date('2026-01-05T15:00:00.000Z');
const OLD = new Date(NOW.getTime() - 3_600_000).toISOString(); // an hour without a tick: stale
const account = { accountId: 'A', model: 'reg-t', cash: '-20000' };
const positions = [
  { accountId: 'A', instrument: 'SPY', quantity: '100', avgCost: '400' },
  { accountId: 'A', instrument: 'QQQ', quantity: '100', avgCost: '300' },
];
const price = (instrument: string, p: string, at: string) =>
  ({ instrument, price: p, priceTime: at, session: '24x7' }) as const;

describe('stale prices among fresh ones: banded on the fresh, pinned on the stale', () => {
  it('assessment: a band for QQQ, SPY pinned, the stale-prices problem still recorded', () => {
    const a = assessAccount({
      account,
      positions,
      prices: new Map([
        ['SPY', price('SPY', '400', OLD)],
        ['QQQ', price('QQQ', '300', NOW.toISOString())],
      ]),
      previous: null,
      now: NOW,
      config: DEFAULT_PIPELINE_CONFIG,
    });
    expect(a.next.dataProblem).toMatchObject({ kind: 'stale-prices', instruments: ['SPY'] });
    expect(a.bands.kind).toBe('banded');
    if (a.bands.kind !== 'banded') return;
    expect(a.bands.pinned).toEqual(['SPY']);
    expect(a.bands.bands.map((b) => b.instrument)).toEqual(['QQQ']);
    expect(a.bands.bands[0]!.low).not.toBeNull();

    // Stored: SPY's row is an always row, QQQ's a band; not watched (nothing but a SPY tick moves it).
    const plan = planBandWrite('A', null, a.bands, a.held, 8, a.bandBasis)!;
    expect(plan.summary.always).toBeNull();
    expect(plan.summary.rows.SPY).toEqual({ low: ALWAYS_LOW, high: null });
    expect(plan.summary.rows.QQQ!.low).toBe(a.bands.bands[0]!.low!.toFixed());
    expect(plan.watch).toBeNull();
    // The same assessment again: every row still holds, nothing to write.
    expect(planBandWrite('A', plan.summary, a.bands, a.held, 8, a.bandBasis)).toBeNull();
    // SPY ticks (fresh again): its pinned row gives way to a band.
    const fresh = assessAccount({
      account,
      positions,
      prices: new Map([
        ['SPY', price('SPY', '400', NOW.toISOString())],
        ['QQQ', price('QQQ', '300', NOW.toISOString())],
      ]),
      previous: a.next,
      now: NOW,
      config: DEFAULT_PIPELINE_CONFIG,
    });
    const next = planBandWrite('A', plan.summary, fresh.bands, fresh.held, 8, fresh.bandBasis)!;
    expect(next.summary.rows.SPY!.low).not.toBe(ALWAYS_LOW);
  });

  it('missing prices: an always row on the missing instrument only (no other tick can change anything)', () => {
    const a = assessAccount({
      account,
      positions,
      prices: new Map([['SPY', price('SPY', '400', NOW.toISOString())]]),
      previous: null,
      now: NOW,
      config: DEFAULT_PIPELINE_CONFIG,
    });
    expect(a.next.dataProblem).toMatchObject({ kind: 'missing-prices', instruments: ['QQQ'] });
    expect(a.bands).toEqual({ kind: 'always', reason: 'missing-prices' });
    const plan = planBandWrite('A', null, a.bands, a.held, 8, a.bandBasis)!;
    expect(Object.keys(plan.summary.rows)).toEqual(['QQQ']);
    expect(plan.watch).toEqual({ reason: 'missing-prices' }); // and the minute watch
  });

  it('the re-check: a pinned row holds only while its price is the one the bands were proven with', () => {
    const summary = {
      accountId: 'A',
      version: 1,
      basis: 'b',
      always: null,
      rows: { SPY: { low: ALWAYS_LOW, high: null }, QQQ: { low: '290', high: null } },
      seen: { SPY: OLD, QQQ: NOW.toISOString() },
    };
    const prices = new Map([
      ['SPY', new Decimal('400')],
      ['QQQ', new Decimal('300')],
    ]);
    const same = new Map([
      ['SPY', OLD],
      ['QQQ', NOW.toISOString()],
    ]);
    expect(insideStoredBands(summary, prices, same)).toBe(true);
    expect(insideStoredBands(summary, prices, new Map([...same, ['SPY', NOW.toISOString()]]))).toBe(false);
  });

  it('a tick of the pinned instrument between a queued evaluation’s price read and its band write is caught', async () => {
    const store = new MemoryStore();
    const bands = new MemoryBands();
    const publisher = new CapturedPublisher();
    store.accounts.set('A', account as never);
    store.positions.set('A', positions as never);
    store.prices.set('SPY', price('SPY', '400', OLD));
    store.prices.set('QQQ', price('QQQ', '300', NOW.toISOString()));
    let now = NOW;
    const deps: HandlerDeps = {
      ...memoryHandlerDeps(store, { sweepSegments: 1, concurrency: 1 }, bands),
      publisher,
      now: () => now,
    };
    await evaluateAccount('A', deps);
    const first = (await bands.getBandSummary('A'))!;
    expect(first.always).toBeNull();
    expect(first.rows.SPY).toEqual({ low: ALWAYS_LOW, high: null });
    publisher.events.length = 0;

    // A small withdrawal: a queued evaluation rewrites the bands. SPY ticks to 20 after that evaluation read
    // prices and before its band write (equity 12,000 vs maintenance 8,000: the level moves). The tick's
    // own query saw the old rows; only the re-check can catch it.
    store.accounts.set('A', { ...account, cash: '-20100' } as never);
    const write = bands.writeBands.bind(bands);
    let raced = false;
    bands.writeBands = async (plan, orphans) => {
      if (!raced) {
        raced = true;
        now = new Date(NOW.getTime() + 1000);
        store.prices.set('SPY', price('SPY', '20', now.toISOString()));
      }
      return write(plan, orphans);
    };
    const out = await makeWorkQueueHandler(() => deps)({
      Records: [
        {
          messageId: 'm',
          body: JSON.stringify({ kind: 'accounts', accountIds: ['A'], reason: 'account-changed' }),
        },
      ],
    } as never);
    expect(out.batchItemFailures).toEqual([]);
    expect(raced).toBe(true);
    expect(publisher.events.map((e) => e.detailType)).toContain('RiskLevelChanged');
    // Fresh again: SPY is banded now.
    expect((await bands.getBandSummary('A'))!.rows.SPY!.low).not.toBe(ALWAYS_LOW);
  });
});
