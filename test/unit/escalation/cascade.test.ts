import { describe, expect, it } from 'vitest';
import { Decimal, ZERO } from '../../../shared/decimal.ts';
import {
  cascadeConfigSchema,
  cascadeOrder,
  cascadeRound,
  underwater,
  type CascadeRequest,
} from '../../../shared/escalation/cascade.ts';

const d = (v: string | number) => new Decimal(v);
function request(accountId: string, equity: string, maintenance: string, notional: Record<string, string>) {
  return {
    accountId,
    incidentId: `${accountId}:risk:T`,
    step: 'liquidate',
    equity: d(equity),
    maintenanceRequirement: d(maintenance),
    notional: new Map(Object.entries(notional).map(([k, v]) => [k, d(v)])),
    plannedAt: '2026-03-09T14:30:00.000Z',
  } satisfies CascadeRequest;
}

describe('cascade ordering', () => {
  it('most under water first, by shortfall relative to maintenance', () => {
    // A: (10,000 − 9,000) / 10,000 = 0.1; B: (1,000 − 200) / 1,000 = 0.8; C: equity −50, no requirement.
    const a = request('A', '9000', '10000', { SPY: '1' });
    const b = request('B', '200', '1000', { SPY: '1' });
    const c = request('C', '-50', '0', { SPY: '1' });
    expect(underwater(b).toFixed()).toBe('0.8');
    expect([a, b, c].sort(cascadeOrder).map((r) => r.accountId)).toEqual(['C', 'B', 'A']);
  });

  it('a cap per instrument queues the rest, keeps order per instrument, lets other instruments through', () => {
    const config = cascadeConfigSchema.parse({ notionalCapPerInterval: { BTC: '100000' } });
    const round = cascadeRound(
      [
        request('shallow', '900', '1000', { ETH: '5000' }),
        request('deep', '100', '1000', { BTC: '80000' }),
        request('middle', '500', '1000', { BTC: '30000' }),
        request('small', '600', '1000', { BTC: '10000' }), // would fit, but waits behind "middle"
      ],
      new Map(),
      config,
    );
    expect(round.publish.map((r) => r.accountId)).toEqual(['deep', 'shallow']);
    expect(round.queued.map((q) => [q.request.accountId, q.instrument])).toEqual([
      ['middle', 'BTC'],
      ['small', 'BTC'],
    ]);
    expect(round.queued[0]!.reason).toBe(
      'BTC: 80000 of the 100000 notional cap used this interval; 30000 more waits for the next',
    );
    expect(round.usage.get('BTC')!.toFixed()).toBe('80000');
    // Next interval: the queue goes first, in order.
    const next = cascadeRound(
      round.queued.map((q) => q.request),
      new Map(),
      config,
    );
    expect(next.publish.map((r) => r.accountId)).toEqual(['middle', 'small']);
  });

  it('1,000 accounts crossing at once: published in shortfall order within the cap, none lost', () => {
    const instruments = ['BTC', 'ETH', 'SOL', 'SPY', 'QQQ'];
    let seed = 11;
    const random = () => (seed = (seed * 48_271) % 2_147_483_647); // deterministic, integers only
    const requests = Array.from({ length: 1000 }, (_, i) => {
      const held = instruments.filter((_, k) => (random() + k) % 3 === 0);
      const notional = Object.fromEntries(
        (held.length ? held : ['BTC']).map((s) => [s, String(1_000 + (random() % 200_000))]),
      );
      const maintenance = 10_000 + (random() % 90_000);
      const equity = (random() % (maintenance * 2)) - maintenance / 2; // −½m … 1½m: many deeply under
      return { ...request(`A${String(i).padStart(4, '0')}`, String(equity), String(maintenance), notional) };
    });
    const config = cascadeConfigSchema.parse({
      notionalCapPerInterval: { BTC: '2000000', SPY: '500000' },
      defaultNotionalCap: '1000000',
    });
    const published: { request: CascadeRequest; interval: number }[] = [];
    let pending: CascadeRequest[] = requests;
    let interval = 0;
    while (pending.length > 0 && interval < 10_000) {
      const round = cascadeRound(pending, new Map(), config);
      expect([...round.publish].sort(cascadeOrder)).toEqual(round.publish); // in order within the round
      for (const r of round.publish) published.push({ request: r, interval });
      for (const q of round.queued) expect(q.reason).toContain(q.instrument);
      // Within the cap, unless one request alone is larger than it.
      for (const s of instruments) {
        const cap = config.notionalCapPerInterval[s] ?? config.defaultNotionalCap!;
        const trading = round.publish.filter((r) => r.notional.has(s));
        const total = trading.reduce((t, r) => t.plus(r.notional.get(s)!), ZERO);
        expect(total.lessThanOrEqualTo(cap) || trading.length === 1).toBe(true);
      }
      expect(round.publish.length).toBeGreaterThan(0); // always progress
      pending = round.queued.map((q) => q.request);
      interval += 1;
    }
    // None lost, none twice.
    expect(published.map((p) => p.request.accountId).sort()).toEqual(requests.map((r) => r.accountId).sort());
    // Per instrument, publication follows the cascade order.
    for (const s of instruments) {
      const order = published.filter((p) => p.request.notional.has(s)).map((p) => p.request);
      expect([...order].sort(cascadeOrder)).toEqual(order);
    }
    expect(interval).toBeGreaterThan(1); // the caps did queue some
  });
});
