import { describe } from 'vitest';
import { scaled } from '../helpers/scale.ts';
import { simulationRounds } from '../helpers/simulation.ts';

/** The deterministic simulation, second half of the seeds (see simulation.a.test.ts): the two run in parallel. */
describe('deterministic simulation: seeded faults, every invariant (second half of the seeds)', () => {
  simulationRounds(scaled(501, 50_001), scaled(500, 50_000), scaled(500, 2_500));
});
