import { z } from 'zod';
import { Decimal } from '../../shared/decimal.ts';
import { severityOf } from '../../shared/escalation/messages.ts';
import { alertFor, type Alert, type AlertKind } from '../../shared/notify/alert.ts';
import { describeOrders, orderRequestEvent } from '../../shared/escalation/order-request.ts';
import {
  alertSettingsSchema,
  escalationConfigSchema,
  failedAttemptStep,
  type EscalationConfig,
} from '../../shared/escalation/settings.ts';
import type { DomainEvent, EventDetail } from '../../shared/events/schemas.ts';
import { executionState, unfilled } from '../../shared/deleverage/order-tracking.ts';
import type { OrdersRepository } from '../lib/orders-repository.ts';
import type { StoredRiskState } from '../../shared/pipeline/stored-state.ts';
import type { RiskLevel } from '../../shared/risk/levels.ts';
import type { ActionsRepository, SettingsRepository } from '../lib/actions-repository.ts';
import { evaluateAccount, type EvaluatorDeps } from '../lib/evaluate-account.ts';
import { topicsOnly, type Dispatcher } from '../lib/dispatcher.ts';
import type { Notifier } from '../lib/notifier.ts';
import { planForAccount } from '../lib/plan-for-account.ts';
import type { RiskRepository } from '../lib/risk-repository.ts';
import { classified, PermanentError } from '../lib/step-errors.ts';
import { AccountChangedError, type WaitStore } from '../lib/escalation-waits.ts';

export const STEP_ACTIONS = ['check', 'alert', 'deleverage', 'liquidate', 'resolve', 'fail', 'wait'] as const;

export const stepInputSchema = z.object({
  action: z.enum(STEP_ACTIONS),
  accountId: z.string().min(1),
  incidentId: z.string().min(1),
  /** Set by the state machine's catch-all on `fail`. */
  error: z.unknown().optional(),
  /** The execution's input on `fail`: which attempt at the incident failed (the starter's restart count). */
  execution: z.object({ attempt: z.number().int().min(0).optional() }).optional(),
  /** On `wait`: the callback task's token, and the level the execution's last re-check saw. */
  taskToken: z.string().min(1).optional(),
  level: z.string().nullable().optional(),
});
export type StepInput = z.input<typeof stepInputSchema>;

export interface StepOutput {
  accountId: string;
  incidentId: string;
  action: (typeof STEP_ACTIONS)[number];
  level: RiskLevel | null;
  marginRatio: string | null;
  held: boolean;
  /** Back to SAFE, or this incident is closed: the execution ends. */
  recovered: boolean;
  /** Whether this step did its work now (false when skipped or already done for this incident). */
  performed: boolean;
  note: string;
  waitSeconds: number;
  holdPollSeconds: number;
  /**
   * The longest the next wait lasts if no level change ends it first: `waitSeconds` while the incident's
   * orders are working (their fills and rejections are seen at a re-check), `wakeBackstopSeconds` otherwise.
   */
  wakeSeconds: number;
}

export interface EscalationDeps extends EvaluatorDeps {
  repo: RiskRepository;
  actions: ActionsRepository;
  settings: SettingsRepository;
  /** The SNS alerts and pages topics. */
  notifier: Notifier;
  /** Requested orders and the broker's feedback; without it, orders are not tracked. */
  orders?: Pick<OrdersRepository, 'recordRequested' | 'forIncident'>;
  /** The notification policy's dispatcher (routes, fatigue, on-call ladder); the topics alone without it. */
  alerts?: Pick<Dispatcher, 'dispatch'>;
  /**
   * Where a waiting execution's task token is kept (the waker completes it on the account's next level
   * change); without it, `wait` registers nothing and the wait lasts until its timeout (the backstop, or
   * `waitSeconds` while orders are working).
   */
  waits?: WaitStore;
}

interface Fresh {
  state: StoredRiskState | null;
  held: boolean;
  recovered: boolean;
  config: EscalationConfig;
}

/** Every step starts here: evaluate the account now, then read what was just stored. */
async function recheck(d: EscalationDeps, accountId: string, incidentId: string): Promise<Fresh> {
  await evaluateAccount(accountId, d);
  const [state, hold, config] = await Promise.all([
    d.repo.getRiskState(accountId),
    d.actions.getHold(accountId),
    d.settings.get('escalation', escalationConfigSchema),
  ]);
  const openIncident = state?.tracker.incident?.id ?? null;
  return {
    state,
    held: hold !== null,
    recovered: state?.level === 'SAFE' || openIncident !== incidentId,
    config,
  };
}

function output(
  input: z.output<typeof stepInputSchema>,
  fresh: Fresh,
  performed: boolean,
  note: string,
  /** The incident's orders are working: re-check at `waitSeconds` even without a level change. */
  working = false,
): StepOutput {
  return {
    accountId: input.accountId,
    incidentId: input.incidentId,
    action: input.action,
    level: fresh.state?.level ?? null,
    marginRatio: fresh.state?.marginRatio ?? null,
    held: fresh.held,
    recovered: fresh.recovered,
    performed,
    note,
    waitSeconds: fresh.config.waitSeconds,
    holdPollSeconds: fresh.config.holdPollSeconds,
    // A task timeout is at least a second (TimeoutSecondsPath).
    wakeSeconds: Math.max(1, working ? fresh.config.waitSeconds : fresh.config.wakeBackstopSeconds),
  };
}

type Facts = Pick<
  Alert,
  'accountId' | 'incidentId' | 'level' | 'marginRatio' | 'callMove' | 'next' | 'done' | 'shortfall'
>;

/** max(0, maintenance requirement − equity): what the account is short of its requirement (storm totals). */
const shortfallOf = (state: StoredRiskState | null) =>
  state?.equity != null && state.maintenanceRequirement != null
    ? Decimal.max(0, new Decimal(state.maintenanceRequirement).minus(state.equity)).toFixed()
    : null;

function facts(
  input: { accountId: string; incidentId: string },
  fresh: Fresh,
  next: string,
  done?: string,
): Facts {
  return {
    accountId: input.accountId,
    incidentId: input.incidentId,
    level: fresh.state?.level ?? null,
    marginRatio: fresh.state?.marginRatio ?? null,
    callMove: fresh.state?.evaluation?.distanceToCall.call.move ?? null,
    shortfall: shortfallOf(fresh.state),
    ...(done ? { done } : {}),
    next,
  };
}

/** Tells people, as the /alerts settings allow: through the notification policy, or the SNS topics alone. */
async function send(
  d: EscalationDeps,
  kind: AlertKind,
  f: Facts,
  /** `key` tells apart two alerts of one kind in one incident (e.g. which step's orders went unfilled). */
  options: { page?: boolean; severity?: Alert['severity']; key?: string } = {},
): Promise<void> {
  const settings = await d.settings.get('alerts', alertSettingsSchema);
  if (kind === 'alert' && f.level && !settings.alertLevels.includes(f.level)) return;
  if (kind === 'resolved' && !settings.notifyResolved) return;
  const page = options.page === true || (f.level !== null && settings.pageLevels.includes(f.level));
  const at = (d.now?.() ?? new Date()).toISOString();
  const base = alertFor(kind, f, options.severity ?? severityOf(f.level), at, page);
  const alert = options.key ? { ...base, id: `${base.id}:${options.key}` } : base;
  await (d.alerts ?? topicsOnly(d.notifier)).dispatch(alert);
}

/**
 * Runs `effect` (a notification and its audit entry) to completion once per incident and `key`: claimed
 * as planned first, marked published only after the effect. A retry, or a restarted execution, after a
 * failure part-way runs it again (the dispatcher drops what it already delivered); after it completed,
 * never. Returns whether it ran now.
 */
async function onceForIncident(
  d: EscalationDeps,
  input: { accountId: string; incidentId: string },
  key: string,
  effect: () => Promise<void>,
  payload: unknown = {},
): Promise<boolean> {
  const { record } = await d.actions.claimStep(input.accountId, input.incidentId, key, payload);
  if (record.status === 'published') return false;
  await effect();
  await d.actions.markPublished(input.accountId, input.incidentId, key);
  return true;
}

/** Builds (once) and publishes (until confirmed) the orders of a deleverage or liquidation step. */
async function orderStep(
  d: EscalationDeps,
  input: z.output<typeof stepInputSchema>,
  fresh: Fresh,
  kind: 'deleverage' | 'liquidate',
  /** The step's name: `kind`, or a re-plan's (`deleverage-r1` …): part of every order's idempotency key. */
  step: string = kind,
  /**
   * The request's audit entry, written after the publish and before the step is marked published: an
   * attempt that fails in between is retried (or the step finished by a later one), so published orders
   * are never left unaudited, even by an execution that fails before its notice.
   */
  audited?: (event: DomainEvent, plan: string) => Promise<void>,
): Promise<{ event: DomainEvent; plan: string; fresh: boolean }> {
  const existing = await d.actions.getStep<{ event: DomainEvent; summary: string; collateral?: string }>(
    input.accountId,
    input.incidentId,
    step,
  );
  let record = existing;
  if (!record) {
    const plan = await planForAccount(d.repo, {
      accountId: input.accountId,
      incidentId: input.incidentId,
      step,
      fullLiquidation: kind === 'liquidate',
      now: d.now?.() ?? new Date(),
      policy: fresh.config.policy,
    });
    if (!plan) throw new PermanentError('AccountNotFound', `account ${input.accountId} no longer exists`);
    const event = orderRequestEvent(plan, 'automation', (d.now?.() ?? new Date()).toISOString());
    record = (
      await d.actions.claimStep(input.accountId, input.incidentId, step, {
        event,
        summary: describeOrders(plan),
        collateral: plan.collateral.toFixed(),
      })
    ).record;
  }
  if (record.status !== 'published') {
    // Tracked before it is published, so the broker's first answer finds its order.
    await d.orders?.recordRequested(
      record.payload.event.detail as EventDetail<'DeleverageRequested'>,
      (d.now?.() ?? new Date()).toISOString(),
      record.payload.collateral,
    );
    // Same event id and order keys on every attempt: the order system drops a repeat.
    await d.publisher.publish([record.payload.event]);
    await audited?.(record.payload.event, record.payload.summary);
    await d.actions.markPublished(input.accountId, input.incidentId, step);
    return { event: record.payload.event, plan: record.payload.summary, fresh: true };
  }
  return { event: record.payload.event, plan: record.payload.summary, fresh: false };
}

/**
 * Execution validation at each re-check: orders working past the fill timeout page on-call (once per
 * step); a deleverage that ended short (rejected, cancelled, partly filled) is re-planned for the book as
 * it now stands — new step, new idempotency keys, never a key twice — up to `maxReplans` times.
 */
async function validateExecution(
  d: EscalationDeps,
  input: z.output<typeof stepInputSchema>,
  fresh: Fresh,
): Promise<{ note: string | null; working: boolean }> {
  if (!d.orders || fresh.held) return { note: null, working: false };
  const now = d.now?.() ?? new Date();
  const orders = await d.orders.forIncident(input.accountId, input.incidentId);
  if (orders.length === 0) return { note: null, working: false };
  const state = executionState(orders, now, fresh.config.fillTimeoutSeconds * 1000);
  // A re-plan is audited with its publish (orderStep): one an earlier attempt began (its orders recorded,
  // perhaps published, the step not marked) is finished whatever the level is now, recovered too (not on
  // hold): never left unaudited.
  const replan = (step: string) =>
    orderStep(d, input, fresh, 'deleverage', step, (_event, plan) =>
      d.actions.audit({
        accountId: input.accountId,
        incidentId: input.incidentId,
        action: 'deleverage-replanned',
        actor: 'automation',
        details: {
          step,
          short: state.short.map(
            (o) => `${o.side} ${unfilled(o).toFixed()} of ${o.requested} ${o.instrument} (${o.status})`,
          ),
          orders: plan,
        },
      }),
    );
  const begun = new Set(orders.map((o) => o.step).filter((s) => s.startsWith('deleverage-r')));
  for (const step of begun) {
    const record = await d.actions.getStep(input.accountId, input.incidentId, step);
    if (record?.status !== 'published') await replan(step);
  }
  if (fresh.recovered) return { note: null, working: false };
  const notes: string[] = [];
  let working = state.open.length > 0;
  for (const step of new Set(state.overdue.map((o) => o.step))) {
    // Before pages were marked sent, a claim alone (`unfilled-page:<step>`) meant paged.
    if (await d.actions.getStep(input.accountId, input.incidentId, `unfilled-page:${step}`)) continue;
    const late = state.overdue.filter((o) => o.step === step);
    const paged = await onceForIncident(d, input, `page-unfilled:${step}`, () =>
      send(
        d,
        'failure',
        facts(
          input,
          fresh,
          'a person must check the orders with the broker',
          `orders not filled within ${fresh.config.fillTimeoutSeconds}s: ${late.map((o) => `${o.side} ${unfilled(o).toFixed()} ${o.instrument} (${o.status})`).join(', ')}`,
        ),
        { page: true, severity: 'critical', key: `unfilled:${step}` },
      ),
    );
    if (paged) notes.push(`paged: ${step} unfilled`);
  }
  if (state.short.length > 0 && state.open.length === 0 && fresh.state?.level === 'CRITICAL') {
    const replans = begun.size;
    if (replans < fresh.config.maxReplans) {
      const step = `deleverage-r${replans + 1}`;
      const done = await replan(step);
      notes.push(`re-planned as ${step}: ${done.plan}`);
      working = true;
    }
  }
  return { note: notes.join('; ') || null, working };
}

/**
 * One escalation task. Its failure reaches Step Functions classified (functions/lib/step-errors.ts):
 * `TransientError` is retried with backoff, `PermanentError` goes straight to the catch path.
 */
export function runStep(raw: unknown, d: EscalationDeps): Promise<StepOutput> {
  return classified(() => step(raw, d));
}

async function step(raw: unknown, d: EscalationDeps): Promise<StepOutput> {
  const input = stepInputSchema.parse(raw);
  const { accountId, incidentId } = input;
  const audit = (action: string, details: Record<string, unknown>) =>
    d.actions.audit({ accountId, incidentId, action, actor: 'automation', details });

  if (input.action === 'fail') {
    const fresh = await recheck(d, accountId, incidentId).catch(() => null);
    const f = fresh ?? {
      state: null,
      held: false,
      recovered: false,
      config: escalationConfigSchema.parse({}),
    };
    const error = JSON.stringify(input.error ?? 'unknown').slice(0, 500);
    const attempt = input.execution?.attempt ?? 0;
    // Recorded first: the record is what lets a later level change start attempt + 1 (the starter).
    const paged = await onceForIncident(
      d,
      input,
      failedAttemptStep(attempt),
      async () => {
        await send(
          d,
          'failure',
          facts(
            input,
            f,
            'a person must check the account: automation stopped until its level changes again',
            `failed: ${error}`,
          ),
          { page: true, severity: 'critical', key: failedAttemptStep(attempt) },
        );
        await audit('escalation-failed', { error, attempt });
      },
      { error },
    );
    return output(input, f, paged, paged ? `failure paged: ${error}` : 'failure already paged');
  }

  if (input.action === 'wait') return wait(input, d);

  const fresh = await recheck(d, accountId, incidentId);
  switch (input.action) {
    case 'check': {
      const { note, working } = await validateExecution(d, input, fresh);
      return output(input, fresh, true, note ?? 're-checked', working);
    }
    case 'resolve': {
      const resolved = await onceForIncident(d, input, 'resolve', async () => {
        await send(d, 'resolved', facts(input, fresh, 'nothing: automation for this incident has ended'));
        await audit('resolved', { level: fresh.state?.level });
      });
      return output(input, fresh, resolved, resolved ? 'resolved' : 'already resolved');
    }
    case 'alert': {
      if (fresh.recovered) return output(input, fresh, false, 'recovered before the alert');
      // Claimed as planned, marked published only once sent and audited: a failed send is retried, a sent
      // one never repeats.
      const next = fresh.held
        ? 'nothing while the account is on hold'
        : `re-check in ${fresh.config.waitSeconds}s; deleverage if CRITICAL, liquidate if LIQUIDATION`;
      const sent = await onceForIncident(
        d,
        input,
        'alert',
        async () => {
          await send(
            d,
            'alert',
            facts(input, fresh, next, fresh.held ? 'nothing: account on manual hold' : 'alert sent'),
          );
          await audit('alert', { level: fresh.state?.level, ratio: fresh.state?.marginRatio });
        },
        { level: fresh.state?.level },
      );
      return sent
        ? output(input, fresh, true, 'alert sent')
        : output(input, fresh, false, 'alert already sent for this incident');
    }
    case 'deleverage':
    case 'liquidate': {
      const needed = input.action === 'deleverage' ? ['CRITICAL', 'LIQUIDATION'] : ['LIQUIDATION'];
      // An earlier attempt of this step that planned its orders may have published them (it failed after
      // the plan): they may be working whatever the account does now, so the step finishes what it began —
      // publish until confirmed (the same event: the order system drops a repeat), then notice and audit.
      const skip =
        (fresh.recovered || fresh.held || !needed.includes(fresh.state?.level ?? '')) &&
        (await d.actions.getStep(accountId, incidentId, input.action)) === null;
      if (skip) {
        const why = fresh.recovered
          ? 'recovered'
          : fresh.held
            ? 'on manual hold'
            : `level is ${fresh.state?.level}`;
        await audit(`${input.action}-skipped`, { reason: why });
        return output(input, fresh, false, `skipped: ${why}`);
      }
      const done = await orderStep(d, input, fresh, input.action, input.action, (event, plan) =>
        audit(input.action, { orders: plan, eventId: event.detail.eventId }),
      );
      // Told once the orders are out (audited with the publish), separately: a send that fails after the
      // publish is retried, never lost — and a liquidation's page never skipped.
      const kind = input.action === 'deleverage' ? 'deleverage' : 'liquidation';
      const next =
        kind === 'deleverage'
          ? `re-check in ${fresh.config.waitSeconds}s; liquidate if LIQUIDATION`
          : 'on-call confirms the closing orders filled';
      const told = await onceForIncident(d, input, `${input.action}-notice`, async () => {
        await send(d, kind, facts(input, fresh, next, `${done.event.detailType}: ${done.plan}`), {
          page: kind === 'liquidation',
        });
      });
      const performed = done.fresh || told;
      return output(
        input,
        fresh,
        performed,
        performed ? done.plan : `already requested for this incident: ${done.plan}`,
        true, // its orders are working
      );
    }
  }
}

/**
 * The start of a wait (a callback task: the execution stays in it until its token is completed or the task
 * times out). Stores the token under the account, then reads the account again: a level change, a closed
 * incident or a hold that came after the re-check the execution acted on, and before the token was
 * stored, found no token to complete, so the wait ends here at once — the step fails with
 * `AccountChanged`, which the state machine catches on to the re-check (never retried). Anything later
 * finds the token (the waker reads it strongly consistently after the state write that published the
 * change). No evaluation here.
 */
async function wait(input: z.output<typeof stepInputSchema>, d: EscalationDeps): Promise<StepOutput> {
  const { accountId, incidentId } = input;
  const config = await d.settings.get('escalation', escalationConfigSchema);
  if (!d.waits || !input.taskToken) {
    const fresh: Fresh = { state: null, held: false, recovered: false, config };
    return output(input, fresh, false, 'no wait store: the wait lasts until its timeout');
  }
  await d.waits.put({
    accountId,
    incidentId,
    token: input.taskToken,
    level: input.level ?? null,
    since: (d.now?.() ?? new Date()).toISOString(),
  });
  const [state, hold] = await Promise.all([d.repo.getRiskState(accountId), d.actions.getHold(accountId)]);
  const openIncident = state?.tracker.incident?.id ?? null;
  const fresh: Fresh = {
    state,
    held: hold !== null,
    recovered: state?.level === 'SAFE' || openIncident !== incidentId,
    config,
  };
  const changed =
    fresh.recovered || fresh.held || (input.level !== undefined && (state?.level ?? null) !== input.level);
  if (!changed) return output(input, fresh, false, 'waiting for a level change');
  await d.waits.clear(accountId, input.taskToken);
  throw new AccountChangedError(
    `${accountId}: ${fresh.recovered ? 'recovered' : fresh.held ? 'on hold' : `now ${state?.level}`} before the wait began (saw ${input.level})`,
  );
}
