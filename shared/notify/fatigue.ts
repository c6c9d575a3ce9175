import type { Alert } from './alert.ts';
import type { AlertCategory } from './policy.ts';

/**
 * What an account's alerts remember, to keep on-call from alert fatigue: the current episode (from the
 * first alert until the account has stayed SAFE for the quiet period), which level categories it already
 * alerted, and whether anything was sent that a recovery notice would close.
 */
export interface AlertMemory {
  episodeStartedAt: string | null;
  /** When the account last became SAFE (a recovery); null while it is not SAFE. */
  safeSince: string | null;
  alerted: AlertCategory[];
  /** A level alert went out since the last recovery notice. */
  openNotice: boolean;
  /** The last predictive (approaching) alert: one per quiet period, whatever the episode. */
  lastApproachingAt?: string | null;
  suppressed: number;
  /**
   * An alert being delivered (claimed, not yet committed): its decision is remembered only once it has
   * been delivered, and until `until` (epoch ms) other alerts of the account wait for it. A lapsed lease
   * (its dispatcher died) is ignored; the same alert retried takes its own lease over.
   */
  lease?: FatigueLease | null;
}

export interface FatigueLease {
  alertId: string;
  until: number;
}

export const NO_MEMORY: AlertMemory = {
  episodeStartedAt: null,
  safeSince: null,
  alerted: [],
  openNotice: false,
  suppressed: 0,
};

const LEVEL_CATEGORIES: readonly AlertCategory[] = ['warning', 'critical', 'liquidation-approaching'];

export type FatigueDecision =
  | { send: true; memory: AlertMemory }
  | {
      send: false;
      reason:
        'already-alerted-this-episode' | 'recovery-of-a-suppressed-episode' | 'approaching-alerted-recently';
      memory: AlertMemory;
    };

/**
 * One alert per account and level category per episode; a worse level is a new category and alerts.
 * A recovery notice goes out only if it closes something that was said. Actions (deleverage, liquidation,
 * manual, system) are never held back here: each is already sent once per incident and step.
 */
export function decide(
  memory: AlertMemory,
  alert: Pick<Alert, 'category' | 'at'>,
  quietPeriodMinutes: number,
): FatigueDecision {
  const at = Date.parse(alert.at);
  if (alert.category === 'recovery') {
    const next = { ...memory, safeSince: alert.at };
    if (!memory.openNotice)
      return {
        send: false,
        reason: 'recovery-of-a-suppressed-episode',
        memory: { ...next, suppressed: memory.suppressed + 1 },
      };
    return { send: true, memory: { ...next, openNotice: false } };
  }
  if (alert.category === 'approaching') {
    // Predictive alerts come from written evaluations, often while SAFE: they neither open nor close an episode.
    const last = memory.lastApproachingAt ? Date.parse(memory.lastApproachingAt) : null;
    if (last !== null && at - last < quietPeriodMinutes * 60_000)
      return {
        send: false,
        reason: 'approaching-alerted-recently',
        memory: { ...memory, suppressed: memory.suppressed + 1 },
      };
    return { send: true, memory: { ...memory, lastApproachingAt: alert.at } };
  }
  if (!LEVEL_CATEGORIES.includes(alert.category)) return { send: true, memory };
  const episodeOver =
    memory.episodeStartedAt === null ||
    (memory.safeSince !== null && at - Date.parse(memory.safeSince) >= quietPeriodMinutes * 60_000);
  const current = episodeOver ? { ...NO_MEMORY, suppressed: memory.suppressed } : { ...memory };
  const episode = { ...current, episodeStartedAt: current.episodeStartedAt ?? alert.at, safeSince: null };
  if (episode.alerted.includes(alert.category))
    return {
      send: false,
      reason: 'already-alerted-this-episode',
      memory: { ...episode, suppressed: episode.suppressed + 1 },
    };
  return {
    send: true,
    memory: { ...episode, alerted: [...episode.alerted, alert.category], openNotice: true },
  };
}

/** Categories whose alerts fatigue remembers (the others are actions, each sent once per incident and step). */
const TRACKED: ReadonlySet<AlertCategory> = new Set([...LEVEL_CATEGORIES, 'recovery', 'approaching']);

/** What an alert does to the account's memory before its delivery (see `claimAlert`). */
export type FatigueClaim =
  /** Actions (deleverage, liquidation, manual, system): memory is not involved; deliver. */
  | { kind: 'deliver' }
  /** Another alert of the account holds a live lease: decide again once it commits or lapses. */
  | { kind: 'busy'; until: number }
  /** Held back: save `memory` (the count of suppressions), deliver nothing. */
  | { kind: 'suppress'; reason: Extract<FatigueDecision, { send: false }>['reason']; memory: AlertMemory }
  /** Save `claimed` (the memory as it was, with this alert's lease), deliver, then commit (`commitAlert`). */
  | { kind: 'claim'; claimed: AlertMemory; commit: AlertMemory };

const withoutLease = (memory: AlertMemory): AlertMemory => {
  const { lease: _lease, ...rest } = memory;
  return rest;
};

/** The lease another alert holds at `now`, if any (the alert's own and lapsed leases do not count). */
function otherLease(memory: AlertMemory, alertId: string, now: number): FatigueLease | null {
  const lease = memory.lease;
  return lease && lease.alertId !== alertId && lease.until > now ? lease : null;
}

/**
 * Alert fatigue split around the delivery, so a failed delivery is never remembered as sent: the claim
 * saves a lease (the decision is not remembered yet), the delivery goes out, and `commitAlert` then
 * records what was said. A retry of the same alert finds its own lease and delivers again.
 */
export function claimAlert(
  memory: AlertMemory,
  alert: Pick<Alert, 'id' | 'category' | 'at'>,
  quietPeriodMinutes: number,
  now: number,
  leaseMs: number,
): FatigueClaim {
  if (!TRACKED.has(alert.category)) return { kind: 'deliver' };
  const busy = otherLease(memory, alert.id, now);
  if (busy) return { kind: 'busy', until: busy.until };
  const base = withoutLease(memory);
  const decision = decide(base, alert, quietPeriodMinutes);
  if (!decision.send) return { kind: 'suppress', reason: decision.reason, memory: decision.memory };
  return {
    kind: 'claim',
    claimed: { ...base, lease: { alertId: alert.id, until: now + leaseMs } },
    commit: decision.memory,
  };
}

/**
 * The memory once the alert was delivered, whatever happened to the item meanwhile: what the alert says
 * is remembered (unless someone else remembered it already), its own lease goes, another's stays.
 */
export function commitAlert(
  current: AlertMemory,
  alert: Pick<Alert, 'id' | 'category' | 'at'>,
  quietPeriodMinutes: number,
): AlertMemory {
  const foreign = current.lease && current.lease.alertId !== alert.id ? current.lease : null;
  const base = withoutLease(current);
  const decision = decide(base, alert, quietPeriodMinutes);
  const memory = decision.send ? decision.memory : base;
  return foreign ? { ...memory, lease: foreign } : memory;
}

/** The memory after a failed delivery: the alert's lease is let go (nothing is remembered), so a retry delivers. */
export function releaseAlert(current: AlertMemory, alert: Pick<Alert, 'id'>): AlertMemory {
  return current.lease?.alertId === alert.id ? withoutLease(current) : current;
}
