import { describe } from 'vitest';
import { differentialProperty, runsFor } from '../helpers/fast-summary-books.ts';

describe('fast summary = reference engine (cash)', () => {
  differentialProperty('cash', runsFor(10_000), 0.9);
});
