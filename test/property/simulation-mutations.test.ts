import { describe, expect, it } from 'vitest';
import { MUTATIONS, type Mutation } from '../../bench/sim/ports.ts';
import { sweep } from '../../bench/sim/run.ts';
import { simulate, type Invariant } from '../../bench/sim/simulate.ts';

/**
 * The mutation check: each guard, removed on purpose, is caught by the simulator within a few hundred
 * seeds, by the invariant that protects it. (Without the mutation the same seeds pass: simulation.a.)
 */
const EXPECTED: Record<Mutation, Invariant[]> = {
  // A second claim of a step overwrites the first: the orders are planned again under new event ids.
  'step-claim-unconditional': ['order-key-twice', 'step-twice'],
  // A delivery already sent is claimed again: someone is told twice.
  'delivery-claim-unconditional': ['paged-twice'],
  // What automation gives up on vanishes.
  'dead-letter-dropped': ['record-lost', 'failure-unrecorded', 'page-lost'],
};

describe('mutation check: a guard removed is a failing seed, found quickly', () => {
  for (const mutation of MUTATIONS)
    it(`${mutation}: found within 1,500 seeds, as ${EXPECTED[mutation].join(' or ')}`, async () => {
      const r = await sweep({ first: 1, schedules: 1_500, mutation, stopAtFirst: true });
      expect(r.failing.length, `no seed in 1–1500 broke an invariant with ${mutation}`).toBe(1);
      const broken = new Set(r.failing[0]!.violations.map((v) => v.invariant));
      expect(
        [...broken].some((i) => EXPECTED[mutation].includes(i)),
        [...broken].join(', '),
      ).toBe(true);
      console.log(
        `${mutation}: seed ${r.failing[0]!.seed} (${r.schedules} schedules) broke ${[...broken].join(', ')}`,
      );
    }, 600_000);

  it('the same seed is the same run, digest for digest', async () => {
    for (const seed of [3, 17, 2024]) {
      const a = await simulate({ seed });
      const b = await simulate({ seed });
      expect(b.digest).toBe(a.digest);
      expect(b.stats).toEqual(a.stats);
    }
  });
});
