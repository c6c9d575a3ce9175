import { describe, expect, it } from 'vitest';
import { runCapacity } from '../../../bench/capacity/model.ts';
import { scaled } from '../../helpers/scale.ts';

// A sample of 150 accounts under `npm test`, 1,000 under `npm run test:full`; `npm run capacity` runs 5,000.
describe('capacity model (small-N: `npm run capacity` runs the full sample)', () => {
  it('runs the real handlers on a sample and reports every scenario with its milestones and binding resource', async () => {
    const reports = await runCapacity({ sample: scaled(150, 1_000) });
    expect(reports.map((r) => r.name)).toEqual([
      'first-sweep',
      'crash-tick',
      'trading-second',
      'market-open',
    ]);
    const byName = Object.fromEntries(reports.map((r) => [r.name, r]));
    // The first sweep evaluates every account once and writes every state.
    expect(byName['first-sweep']!.evaluations).toBe(1_000_000);
    expect(byName['first-sweep']!.stateWrites).toBe(1_000_000);
    // The crash tick finds some but not all holders, changes levels, and drops no escalation.
    const crash = byName['crash-tick']!;
    expect(crash.evaluations).toBeGreaterThan(0);
    expect(crash.evaluations).toBeLessThan(1_000_000);
    expect(crash.levelChanges).toBeGreaterThan(0);
    expect(crash.droppedEscalations).toBe(0);
    expect(crash.lastEscalationStartedS).toBeGreaterThanOrEqual(crash.lastRiskLevelChangedS);
    expect(crash.duplicateEvaluationShare).toBeLessThan(0.05);
    // A normal second's ticks cross almost nobody and the stream keeps up.
    expect(byName['trading-second']!.priceLagP99S).toBeLessThan(1);
    for (const r of reports) {
      expect(r.binding).not.toBe('none');
      expect(Number.isFinite(r.rebandedS)).toBe(true);
    }
  });
});
