import { bookEquity } from '../margin/evaluate.ts';
import type { Book, CommonParams, MarginModel } from '../margin/model.ts';
import { thresholdsFor, thresholdSwitchesFor } from '../risk/account-thresholds.ts';
import type { RiskLevel } from '../risk/levels.ts';
import { priceBands, type BandSet } from './price-bands.ts';
import { stayConditions } from './stay-conditions.ts';

/** What the risk tracker holds after an evaluation: the state the bands must preserve. */
export interface TrackedState {
  level: RiskLevel;
  inMarginCall: boolean;
}

/** The account's guard bands around today's prices for the state the tracker is in now. */
export function guardBands(
  model: MarginModel<CommonParams>,
  book: Book<CommonParams>,
  tracked: TrackedState,
): BandSet {
  const equity = bookEquity(model, book);
  const conditions = stayConditions({
    ...tracked,
    thresholds: thresholdsFor(book.account, equity),
    thresholdSwitches: thresholdSwitchesFor(book.account),
    callRatio: book.params.callRatio,
    equity,
  });
  return priceBands(model, book, conditions, equity);
}
