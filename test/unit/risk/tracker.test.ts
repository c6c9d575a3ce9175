import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../shared/decimal.ts';
import { DEFAULT_THRESHOLDS } from '../../../shared/risk/levels.ts';
import {
  averageRatioInCall,
  initialRiskState,
  track,
  type RiskEvent,
  type RiskState,
} from '../../../shared/risk/tracker.ts';

function run(ratios: [string, string][], state: RiskState = initialRiskState('A1')) {
  const events: RiskEvent[] = [];
  for (const [at, ratio] of ratios) {
    const r = new Decimal(ratio);
    const out = track(
      state,
      { at, ratio: r, equity: new Decimal(100), inMarginCall: r.lessThan(1), callRatio: new Decimal(1) },
      DEFAULT_THRESHOLDS,
    );
    state = out.state;
    events.push(...out.events);
  }
  return { state, events };
}

const summary = (events: RiskEvent[]) =>
  events.map((e) =>
    e.type === 'RiskLevelChanged' ? `${e.at} ${e.from}->${e.to}` : `${e.at} ${e.type} ${e.incidentId}`,
  );

describe('risk tracker and margin-call detector', () => {
  it('emits level changes and one trigger/resolve pair per call, with hysteresis', () => {
    const { events, state } = run([
      ['2026-01-01T00:00:00Z', '2.5'],
      ['2026-01-02T00:00:00Z', '1.8'],
      ['2026-01-03T00:00:00Z', '0.9'],
      ['2026-01-04T00:00:00Z', '0.8'],
      ['2026-01-05T00:00:00Z', '1.02'], // above 1 but inside the 0.05 buffer: still in call
      ['2026-01-06T00:00:00Z', '1.1'],
      ['2026-01-07T00:00:00Z', '2.2'],
    ]);
    expect(summary(events)).toEqual([
      '2026-01-01T00:00:00Z null->SAFE',
      '2026-01-02T00:00:00Z SAFE->WARNING',
      '2026-01-03T00:00:00Z WARNING->LIQUIDATION',
      '2026-01-03T00:00:00Z MarginCallTriggered A1:call:2026-01-03T00:00:00Z',
      '2026-01-06T00:00:00Z MarginCallResolved A1:call:2026-01-03T00:00:00Z',
      '2026-01-07T00:00:00Z LIQUIDATION->SAFE',
    ]);
    expect(state.stats).toMatchObject({
      triggered: 1,
      resolved: 1,
      msInCall: 3 * 86_400_000,
      worstLevel: 'LIQUIDATION',
    });
    expect(state.stats.worstRatio!.toFixed()).toBe('0.8');
    expect(averageRatioInCall(state.stats)!.toFixed()).toBe('0.9066666666666666666666666666666666666667'); // (0.9+0.8+1.02)/3
    const resolved = events.find((e) => e.type === 'MarginCallResolved');
    expect(resolved).toMatchObject({ durationMs: 3 * 86_400_000 });
  });

  it('ties level changes to one risk incident from leaving SAFE to returning', () => {
    const { events } = run([
      ['2026-01-01T00:00:00Z', '1.8'],
      ['2026-01-02T00:00:00Z', '1.3'],
      ['2026-01-03T00:00:00Z', '2.3'],
      ['2026-01-04T00:00:00Z', '1.9'],
    ]);
    const ids = events.map((e) => (e.type === 'RiskLevelChanged' ? e.incidentId : null));
    // The return to SAFE names the incident it closes.
    expect(ids).toEqual([
      'A1:risk:2026-01-01T00:00:00Z',
      'A1:risk:2026-01-01T00:00:00Z',
      'A1:risk:2026-01-01T00:00:00Z',
      'A1:risk:2026-01-04T00:00:00Z',
    ]);
  });

  it('ignores duplicate and out-of-order observations: nothing is emitted twice', () => {
    const first = run([['2026-01-03T00:00:00Z', '0.9']]);
    const again = run(
      [
        ['2026-01-03T00:00:00Z', '0.9'],
        ['2026-01-02T00:00:00Z', '0.5'],
      ],
      first.state,
    );
    expect(again.events).toEqual([]);
    expect(again.state).toBe(first.state);
  });
});
