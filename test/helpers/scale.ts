/**
 * Test tiers: one knob for every heavy simulation, differential and property test.
 *
 * `npm test` runs them at a small N: every model, category and branch of the full run is still exercised
 * (and every assertion still made), on fewer cases. `npm run test:full` sets `MG_TEST_SCALE=full` and runs
 * them at the full N. Anything else in `MG_TEST_SCALE` is refused, so a typo cannot quietly run the small
 * tier where the full one was meant.
 */
export type TestScale = 'small' | 'full';

export function testScale(): TestScale {
  const value = process.env.MG_TEST_SCALE ?? 'small';
  if (value !== 'small' && value !== 'full')
    throw new Error(`MG_TEST_SCALE must be "small" (the default) or "full", not "${value}"`);
  return value;
}

/** `small` under `npm test`, `full` under `npm run test:full`. */
export function scaled<T>(small: T, full: T): T {
  return testScale() === 'full' ? full : small;
}
