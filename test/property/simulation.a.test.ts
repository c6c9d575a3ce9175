import { describe } from 'vitest';
import { scaled } from '../helpers/scale.ts';
import { simulationRounds } from '../helpers/simulation.ts';

/**
 * The deterministic simulation (bench/sim, `npm run sim`), first half: escalation, paging, orders and
 * the starter over in-memory adapters with seeded faults; every invariant checked after each schedule.
 * npm test runs 1,000 schedules over this file and simulation.b (500 each: the 6-minute CI budget), npm run
 * test:full 100,000, npm run sim any number (`-- --schedules N --first S`).
 */
describe('deterministic simulation: seeded faults, every invariant (first half of the seeds)', () => {
  simulationRounds(1, scaled(500, 50_000), scaled(500, 2_500));
});
