import { describe } from 'vitest';
import { differentialProperty, runsFor } from '../helpers/fast-summary-books.ts';

describe('fast summary = reference engine (gross)', () => {
  differentialProperty('gross', runsFor(12_500), 0.9);
});
