import { describe } from 'vitest';
import { differentialProperty, runsFor } from '../helpers/fast-summary-books.ts';

describe('fast summary = reference engine (tiered)', () => {
  differentialProperty('tiered', runsFor(15_000), 0.5);
});
