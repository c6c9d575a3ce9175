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
