import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  claimAlert,
  commitAlert,
  decide,
  NO_MEMORY,
  releaseAlert,
  type AlertMemory,
} from '../../shared/notify/fatigue.ts';
import type { AlertCategory } from '../../shared/notify/policy.ts';

const QUIET = 60;
const LEASE = 90_000;
const T0 = Date.parse('2026-11-24T12:00:00Z');
const CATEGORIES: AlertCategory[] = [
  'warning',
  'critical',
  'liquidation-approaching',
  'recovery',
  'approaching',
  'deleverage',
  'liquidation',
  'system',
];

const alertArb = fc.record({
  id: fc.constantFrom('a1', 'a2', 'a3', 'a4'),
  category: fc.constantFrom(...CATEGORIES),
  minute: fc.integer({ min: 0, max: 600 }),
});
type A = { id: string; category: AlertCategory; at: string };
const toAlert = (a: { id: string; category: AlertCategory; minute: number }): A => ({
  id: `${a.id}:${a.category}`,
  category: a.category,
  at: new Date(T0 + a.minute * 60_000).toISOString(),
});

/** Dispatches in order; each delivery fails `fails` times first (retried by the same alert), then goes out. */
function run(alerts: { alert: A; fails: number }[]) {
  let memory: AlertMemory = NO_MEMORY;
  const delivered: string[] = [];
  for (const { alert, fails } of alerts) {
    const now = Date.parse(alert.at);
    for (let attempt = 0; ; attempt++) {
      const claim = claimAlert(memory, alert, QUIET, now, LEASE);
      if (claim.kind === 'busy') throw new Error('no lease of another alert can stand in a serial run');
      if (claim.kind === 'suppress') {
        memory = claim.memory;
        break;
      }
      if (claim.kind === 'claim') memory = claim.claimed;
      if (attempt < fails) {
        // The delivery failed: half the time the lease is released, else the process died with it.
        if (attempt % 2 === 0) memory = releaseAlert(memory, alert);
        continue;
      }
      delivered.push(alert.id);
      if (claim.kind === 'claim') memory = commitAlert(memory, alert, QUIET);
      break;
    }
  }
  return { memory, delivered };
}

describe('alert fatigue with leases (claim → deliver → commit)', () => {
  it('failed deliveries change nothing: with retries, the same alerts go out as when nothing fails', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(alertArb, fc.integer({ min: 0, max: 3 })), { maxLength: 30 }), (raw) => {
        const sorted = raw
          .map(([a, fails]) => ({ alert: toAlert(a), fails }))
          .sort((x, y) => Date.parse(x.alert.at) - Date.parse(y.alert.at));
        const faulty = run(sorted);
        const clean = run(sorted.map((s) => ({ ...s, fails: 0 })));
        expect(faulty.delivered).toEqual(clean.delivered);
        expect(faulty.memory).toEqual(clean.memory);
        // And as decide() alone says, the way it was before leases.
        let m: AlertMemory = NO_MEMORY;
        const said: string[] = [];
        for (const { alert } of sorted) {
          const d = decide(m, alert, QUIET);
          m = d.memory;
          if (d.send) said.push(alert.id);
        }
        expect(clean.delivered).toEqual(said);
        expect(clean.memory).toEqual(m);
      }),
      { numRuns: 500 },
    );
  });

  it('a live lease of another alert makes the account busy; a lapsed one or the alert’s own does not', () => {
    const warning = { id: 'w1', category: 'warning' as const, at: new Date(T0).toISOString() };
    const claim = claimAlert(NO_MEMORY, warning, QUIET, T0, LEASE);
    expect(claim.kind).toBe('claim');
    const leased = (claim as Extract<typeof claim, { kind: 'claim' }>).claimed;
    expect(leased.lease).toEqual({ alertId: 'w1', until: T0 + LEASE });
    const other = { id: 'r1', category: 'recovery' as const, at: new Date(T0 + 1000).toISOString() };
    expect(claimAlert(leased, other, QUIET, T0 + 1000, LEASE)).toEqual({ kind: 'busy', until: T0 + LEASE });
    // An action never waits: fatigue does not hold it back.
    expect(claimAlert(leased, { ...other, category: 'liquidation' }, QUIET, T0 + 1000, LEASE)).toEqual({
      kind: 'deliver',
    });
    // The same alert retried takes its lease over; after the lease anyone decides without it.
    expect(claimAlert(leased, warning, QUIET, T0 + 1000, LEASE).kind).toBe('claim');
    expect(claimAlert(leased, other, QUIET, T0 + LEASE + 1, LEASE)).toMatchObject({
      kind: 'suppress',
      reason: 'recovery-of-a-suppressed-episode',
    });
    // Committed over someone else's lease (ours had lapsed and they took the item): theirs stays.
    const theirs = { ...leased, lease: { alertId: 'x9', until: T0 + 2 * LEASE } };
    expect(commitAlert(theirs, warning, QUIET)).toMatchObject({
      alerted: ['warning'],
      openNotice: true,
      lease: { alertId: 'x9' },
    });
  });
});
