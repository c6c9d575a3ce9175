import { describe } from 'vitest';
import { differentialProperty, runsFor } from '../helpers/fast-summary-books.ts';

describe('fast summary = reference engine (cash)', () => {
  differentialProperty('cash', runsFor(7_500), 0.9);
});
