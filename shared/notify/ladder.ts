import type { NotificationPolicy } from './policy.ts';

/** A page climbing the on-call ladder. */
export interface PageState {
  pageId: string;
  alertId: string;
  accountId: string;
  incidentId: string | null;
  createdAt: string;
  /** Index into the policy's on-call tiers, and the how-many-th page at that tier (from 1). */
  tier: number;
  attempt: number;
  ackedBy: string | null;
  ackedAt: string | null;
}

export type LadderStep =
  | { kind: 'acknowledged'; by: string; at: string }
  | { kind: 'page'; tier: number; attempt: number; tierName: string; routes: string[]; waitMinutes: number }
  | { kind: 'exhausted'; tiers: number };

/** The first page: tier 0, attempt 1. */
export function firstStep(policy: NotificationPolicy): LadderStep {
  const t = policy.onCall[0];
  if (!t) return { kind: 'exhausted', tiers: 0 };
  return { kind: 'page', tier: 0, attempt: 1, tierName: t.tier, routes: t.routes, waitMinutes: t.ackMinutes };
}

/**
 * After a page's wait: acknowledged → stop; otherwise page the same tier again until it has had
 * `pagesPerTier` pages, then the next tier up; past the last tier the ladder is exhausted.
 */
export function nextStep(state: PageState, policy: NotificationPolicy): LadderStep {
  if (state.ackedBy && state.ackedAt) return { kind: 'acknowledged', by: state.ackedBy, at: state.ackedAt };
  const current = policy.onCall[state.tier];
  const [tier, attempt] =
    current && state.attempt < current.pagesPerTier ? [state.tier, state.attempt + 1] : [state.tier + 1, 1];
  const t = policy.onCall[tier];
  if (!t) return { kind: 'exhausted', tiers: policy.onCall.length };
  return { kind: 'page', tier, attempt, tierName: t.tier, routes: t.routes, waitMinutes: t.ackMinutes };
}
