import { describe } from 'vitest';
import { differentialProperty, runsFor } from '../helpers/fast-summary-books.ts';

describe('fast summary = reference engine (reg-t)', () => {
  differentialProperty('reg-t', runsFor(17_500), 0.9);
});
