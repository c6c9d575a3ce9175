import { Decimal } from '../decimal.ts';
import { OVERVIEW_LEVELS, type OverviewLevel } from './overview.ts';

export interface HistoryPoint {
  at: string;
  level: string | null;
  marginRatio: string | null;
}

export interface AuditPoint {
  at: string;
  action: string;
  incidentId?: string;
}

export interface ProtectionAction {
  at: string;
  action: string;
  incidentId: string | null;
  /** The last recorded ratio at or before the action, and the first one after it (null: none yet). */
  ratioBefore: string | null;
  ratioAfter: string | null;
  /** ratioAfter − ratioBefore; null unless both are known. */
  improvement: string | null;
}

export interface AccountAnalytics {
  from: string | null;
  to: string;
  /** Milliseconds spent at each level over the history window. */
  timeInLevelMs: Record<OverviewLevel, number>;
  actions: Record<string, number>;
  protection: ProtectionAction[];
  incidents: { total: number; resolvedWithoutLiquidation: number; liquidated: number; open: number };
}

const ORDER_ACTIONS = new Set(['deleverage', 'manual-deleverage', 'liquidate', 'manual-liquidate']);
const LIQUIDATIONS = new Set(['liquidate', 'manual-liquidate']);

/**
 * Protection effectiveness of one account from its risk history and audit trail (both in any order): how
 * long it spent at each level, what was done, and whether each deleverage restored the ratio.
 */
export function accountAnalytics(
  history: readonly HistoryPoint[],
  audit: readonly AuditPoint[],
  asOf: string,
): AccountAnalytics {
  const points = [...history].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const events = [...audit].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const timeInLevelMs = Object.fromEntries(OVERVIEW_LEVELS.map((l) => [l, 0])) as Record<
    OverviewLevel,
    number
  >;
  points.forEach((p, i) => {
    const end = Date.parse(points[i + 1]?.at ?? asOf);
    timeInLevelMs[(p.level ?? 'UNRATED') as OverviewLevel] += Math.max(0, end - Date.parse(p.at));
  });

  const actions: Record<string, number> = {};
  for (const e of events) actions[e.action] = (actions[e.action] ?? 0) + 1;

  const protection = events
    .filter((e) => ORDER_ACTIONS.has(e.action))
    .map((e): ProtectionAction => {
      const before = points.filter((p) => p.at <= e.at).at(-1)?.marginRatio ?? null;
      const after = points.find((p) => p.at > e.at)?.marginRatio ?? null;
      return {
        at: e.at,
        action: e.action,
        incidentId: e.incidentId ?? null,
        ratioBefore: before,
        ratioAfter: after,
        improvement:
          before !== null && after !== null ? new Decimal(after).minus(new Decimal(before)).toFixed() : null,
      };
    });

  const incidents = new Map<string, { resolved: boolean; liquidated: boolean }>();
  for (const e of events) {
    if (!e.incidentId || e.incidentId.startsWith('manual:')) continue;
    const i = incidents.get(e.incidentId) ?? { resolved: false, liquidated: false };
    if (e.action === 'resolved') i.resolved = true;
    if (LIQUIDATIONS.has(e.action)) i.liquidated = true;
    incidents.set(e.incidentId, i);
  }
  const all = [...incidents.values()];
  return {
    from: points[0]?.at ?? null,
    to: asOf,
    timeInLevelMs,
    actions,
    protection,
    incidents: {
      total: all.length,
      resolvedWithoutLiquidation: all.filter((i) => i.resolved && !i.liquidated).length,
      liquidated: all.filter((i) => i.liquidated).length,
      open: all.filter((i) => !i.resolved).length,
    },
  };
}
