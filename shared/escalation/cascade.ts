import { z } from 'zod';
import { Decimal, ZERO } from '../decimal.ts';
import { positiveDecimal } from '../schemas/decimal-string.ts';

/**
 * Cascade ordering (issue 25 item 5): when many accounts need deleverage or liquidation orders at once,
 * requests are published most-underwater first, and an optional per-instrument cap on order notional per
 * interval queues the rest (never drops them). Pure: the caller keeps the queue and the interval's usage.
 */
export const cascadeConfigSchema = z.strictObject({
  /** Notional (Σ |quantity| · price · multiplier of its orders) an instrument may take per interval. */
  notionalCapPerInterval: z.record(z.string().min(1).max(64), positiveDecimal).default({}),
  /** The cap for instruments not named above; absent: no cap. */
  defaultNotionalCap: positiveDecimal.optional(),
  intervalSeconds: z.number().int().positive().max(86_400).default(60),
});
export type CascadeConfig = z.output<typeof cascadeConfigSchema>;

export interface CascadeRequest {
  accountId: string;
  incidentId: string;
  step: string;
  /** Equity and maintenance requirement when the request was planned. */
  equity: Decimal;
  maintenanceRequirement: Decimal;
  /** Notional per instrument of the request's orders. */
  notional: ReadonlyMap<string, Decimal>;
  /** When it was planned (ISO-8601): breaks ties, oldest first. */
  plannedAt: string;
}

/**
 * How far under water: the shortfall relative to maintenance, (maintenance − equity) / maintenance
 * (1 − ratio; above 1 once equity is negative). No requirement with negative equity is the deepest
 * (+Infinity as a sort key only, never published); no requirement otherwise is the shallowest.
 */
export function underwater(r: Pick<CascadeRequest, 'equity' | 'maintenanceRequirement'>): Decimal {
  if (r.maintenanceRequirement.isZero())
    return r.equity.isNegative() ? new Decimal(Infinity) : new Decimal(-Infinity);
  return r.maintenanceRequirement.minus(r.equity).dividedBy(r.maintenanceRequirement);
}

/** Most underwater first; ties: planned earlier, then account id (deterministic). */
export function cascadeOrder(a: CascadeRequest, b: CascadeRequest): number {
  const byDepth = underwater(b).comparedTo(underwater(a));
  if (byDepth !== 0) return byDepth;
  if (a.plannedAt !== b.plannedAt) return a.plannedAt < b.plannedAt ? -1 : 1;
  return a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0;
}

export interface QueuedRequest {
  request: CascadeRequest;
  /** The instrument that held it back, and why (for the audit trail and the console). */
  instrument: string;
  reason: string;
}

export interface CascadeRound {
  /** To publish now, in this order. */
  publish: CascadeRequest[];
  /** Held for the next interval, in cascade order. */
  queued: QueuedRequest[];
  /** Notional used per instrument in this interval after the round. */
  usage: Map<string, Decimal>;
}

function capOf(config: CascadeConfig, instrument: string): Decimal | null {
  return config.notionalCapPerInterval[instrument] ?? config.defaultNotionalCap ?? null;
}

/**
 * One round within an interval: `pending` (new and queued requests) in cascade order; a request goes out
 * whole when each of its instruments has room for it in the interval (`usage` so far), else it waits.
 * Per instrument the order is kept: once a request waits on an instrument, no later request that trades
 * it goes ahead of it (others still may). A request larger than a cap on its own goes out at the start of
 * an interval, alone on that instrument, so nothing waits forever.
 */
export function cascadeRound(
  pending: readonly CascadeRequest[],
  usage: ReadonlyMap<string, Decimal>,
  config: CascadeConfig,
): CascadeRound {
  const used = new Map(usage);
  const blocked = new Map<string, string>(); // instrument → account whose wait blocks it
  const publish: CascadeRequest[] = [];
  const queued: QueuedRequest[] = [];
  for (const request of [...pending].sort(cascadeOrder)) {
    let held: QueuedRequest | null = null;
    for (const [instrument, notional] of request.notional) {
      const cap = capOf(config, instrument);
      const before = used.get(instrument) ?? ZERO;
      const behind = blocked.get(instrument);
      if (behind !== undefined) {
        held = {
          request,
          instrument,
          reason: `${instrument}: behind ${behind}, more under water, waiting for the ${instrument} cap`,
        };
        break;
      }
      if (cap && before.plus(notional).greaterThan(cap) && !before.isZero()) {
        held = {
          request,
          instrument,
          reason: `${instrument}: ${before.toFixed()} of the ${cap.toFixed()} notional cap used this interval; ${notional.toFixed()} more waits for the next`,
        };
        break;
      }
    }
    if (held) {
      queued.push(held);
      for (const instrument of request.notional.keys())
        if (!blocked.has(instrument)) blocked.set(instrument, request.accountId);
      continue;
    }
    publish.push(request);
    for (const [instrument, notional] of request.notional)
      used.set(instrument, (used.get(instrument) ?? ZERO).plus(notional));
  }
  return { publish, queued, usage: used };
}
