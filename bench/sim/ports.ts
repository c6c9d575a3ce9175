import type { z } from 'zod';
import type { AuditEntry, Hold, StepRecord } from '../../functions/lib/actions-repository.ts';
import type { EventDetail } from '../../shared/events/schemas.ts';
import type { BrokerEvent } from '../../shared/events/broker-feedback.ts';
import { applyFeedback, type TrackedOrder } from '../../shared/deleverage/order-tracking.ts';

const copy = <T>(v: T): T => structuredClone(v);

/** Guards a mutation check removes on purpose (docs/reliability.md, "The simulator"). */
export type Mutation =
  /** The step record's `attribute_not_exists` condition: a second claim overwrites the first. */
  | 'step-claim-unconditional'
  /** The delivery claim's condition: a delivery already sent is claimed (and sent) again. */
  | 'delivery-claim-unconditional'
  /** The dead-letter queue drops what it is sent. */
  | 'dead-letter-dropped';

export const MUTATIONS: readonly Mutation[] = [
  'step-claim-unconditional',
  'delivery-claim-unconditional',
  'dead-letter-dropped',
];

/** The Actions table's step records, holds and audit trail, with the same conditions as ActionsRepository. */
export class MemoryActions {
  readonly steps = new Map<string, StepRecord>();
  readonly holds = new Map<string, Hold>();
  readonly audits: (AuditEntry & { at: string })[] = [];
  /** Step records ever marked published (`accountId|incidentId|step`), whatever overwrote them since. */
  readonly publishedEver = new Set<string>();

  constructor(
    private readonly now: () => Date,
    private readonly mutation?: Mutation,
    private readonly onAudit: (entry: AuditEntry) => void = () => {},
  ) {}

  async getStep<P>(accountId: string, incidentId: string, step: string): Promise<StepRecord<P> | null> {
    const r = this.steps.get(`${accountId}|${incidentId}|${step}`);
    return r ? (copy(r) as StepRecord<P>) : null;
  }

  async claimStep<P>(accountId: string, incidentId: string, step: string, payload: P) {
    const key = `${accountId}|${incidentId}|${step}`;
    const existing = this.steps.get(key);
    if (existing && this.mutation !== 'step-claim-unconditional')
      return { record: copy(existing) as StepRecord<P>, claimed: false };
    const record: StepRecord<P> = {
      accountId,
      actionKey: `STEP#${incidentId}#${step}`,
      incidentId,
      step,
      status: 'planned',
      payload: copy(payload),
      createdAt: this.now().toISOString(),
    };
    this.steps.set(key, record as StepRecord);
    return { record: copy(record), claimed: true };
  }

  async markPublished(accountId: string, incidentId: string, step: string): Promise<void> {
    const key = `${accountId}|${incidentId}|${step}`;
    const r = this.steps.get(key);
    this.publishedEver.add(key);
    // DynamoDB's UpdateItem creates the item if it is missing; the steps always claim first.
    this.steps.set(key, {
      ...(r ?? {
        accountId,
        actionKey: `STEP#${incidentId}#${step}`,
        incidentId,
        step,
        payload: undefined,
        createdAt: this.now().toISOString(),
      }),
      status: 'published',
      publishedAt: this.now().toISOString(),
    } as StepRecord);
  }

  async getHold(accountId: string): Promise<Hold | null> {
    const h = this.holds.get(accountId);
    return h ? copy(h) : null;
  }

  async setHold(hold: Hold): Promise<void> {
    this.holds.set(hold.accountId, copy(hold));
  }

  async clearHold(accountId: string): Promise<boolean> {
    return this.holds.delete(accountId);
  }

  async audit(entry: AuditEntry): Promise<void> {
    this.audits.push({ ...copy(entry), at: this.now().toISOString() });
    this.onAudit(entry);
  }

  async listAudit(accountId: string, limit = 50) {
    return this.audits
      .filter((a) => a.accountId === accountId)
      .slice(-limit)
      .reverse();
  }
}

/** The Settings table: documents by name, validated by their schema, defaults when absent. */
export class MemorySettings {
  private readonly parsed = new Map<string, { schema: z.ZodType; value: unknown }>();

  constructor(private readonly docs: Record<string, unknown>) {}

  /** Validated once per document and schema (the documents do not change during a run; readers do not mutate them). */
  async get<S extends z.ZodType>(name: string, schema: S): Promise<z.output<S>> {
    let hit = this.parsed.get(name);
    if (hit?.schema !== schema) {
      hit = { schema, value: schema.parse(copy(this.docs[name] ?? {})) };
      this.parsed.set(name, hit);
    }
    return hit.value as z.output<S>;
  }

  async getRaw(name: string): Promise<unknown> {
    return copy(this.docs[name] ?? null);
  }
}

/** Requested orders and the broker's feedback (OrdersRepository's contract). */
export class MemoryOrders {
  readonly orders = new Map<string, TrackedOrder>();

  async recordRequested(request: EventDetail<'DeleverageRequested'>, at: string, collateral?: string) {
    for (const o of request.orders) {
      if (this.orders.has(o.idempotencyKey)) continue;
      this.orders.set(o.idempotencyKey, {
        idempotencyKey: o.idempotencyKey,
        accountId: request.accountId,
        incidentId: request.incidentId,
        step: request.step,
        instrument: o.instrument,
        side: o.side,
        requested: o.quantity,
        filled: '0',
        filledNotional: '0',
        fees: '0',
        status: 'requested',
        requestedAt: at,
        updatedAt: at,
        seen: [],
        ...(collateral !== undefined ? { collateral } : {}),
      });
    }
  }

  async apply(e: BrokerEvent): Promise<{ before: TrackedOrder; after: TrackedOrder } | null> {
    const before = this.orders.get(e.detail.idempotencyKey);
    if (!before) return null;
    const after = applyFeedback(before, e);
    this.orders.set(after.idempotencyKey, after);
    return { before: copy(before), after: copy(after) };
  }

  async forIncident(accountId: string, incidentId: string): Promise<TrackedOrder[]> {
    return [...this.orders.values()]
      .filter((o) => o.accountId === accountId && o.incidentId === incidentId)
      .map(copy);
  }
}
