/** How many summaries took the fast path, fell back to the reference engine, or fell back for the distance only. */
export const fastPathStats = {
  fast: 0,
  reference: 0,
  distanceFallbacks: 0,
  /** Fast summaries whose integers a static bound kept in float64 (the rest ran on BigInt). */
  floatTier: 0,
  /** Float64 could not decide an order or a sign within its error bound: decimal.js did. */
  exactDecisions: 0,
};

/** Counts a decision float64 left to decimal.js (the differential test reports how often). */
export function exactDecision<T>(decided: T): T {
  fastPathStats.exactDecisions += 1;
  return decided;
}
