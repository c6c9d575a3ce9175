import { expect, it } from 'vitest';
import { reproduce, sweep } from '../../bench/sim/run.ts';

/**
 * Runs seeds [first, first + count) of the deterministic simulation (bench/sim) in rounds of `round`
 * (one `it` each, so a long run reports as it goes), asserting no invariant broke; a failing seed is named
 * with its one-line replay command.
 */
export function simulationRounds(first: number, count: number, round: number) {
  for (let from = first; from < first + count; from += round) {
    const n = Math.min(round, first + count - from);
    it(`seeds ${from}–${from + n - 1}: no invariant broken`, async () => {
      const r = await sweep({ first: from, schedules: n });
      const report = r.failing
        .slice(0, 10)
        .map(
          (f) =>
            `seed ${f.seed}: ${f.violations.map((v) => `${v.invariant}: ${v.detail.split('\n')[0]}`).join('; ')}\n  reproduce: ${reproduce(f.seed)}`,
        )
        .join('\n');
      expect(report, `${r.failing.length} of ${n} schedules failed`).toBe('');
      expect(r.schedules).toBe(n);
      // No timing asserted: a round takes ~5 s on an idle core, minutes on a loaded one.
    }, 600_000);
  }
}
