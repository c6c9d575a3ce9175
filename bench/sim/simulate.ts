import type { SQSRecord } from 'aws-lambda';
import { ExecutionAlreadyExists, type StartExecutionCommand } from '@aws-sdk/client-sfn';
import { runStep, type EscalationDeps, type StepOutput } from '../../functions/escalation/steps.ts';
import { makeStarterHandler } from '../../functions/escalation-starter/handler.ts';
import { countFailedAttempts } from '../../functions/escalation-starter/start.ts';
import { ESCALATION_START_LIMITS } from '../../functions/escalation-starter/limits.ts';
import { Dispatcher, type DeliveryRecord } from '../../functions/lib/dispatcher.ts';
import {
  RetryableDeliveryError,
  type ChannelSender,
  type Delivery,
} from '../../functions/lib/channels/delivery.ts';
import { evaluateAccount, type EvaluatorDeps } from '../../functions/lib/evaluate-account.ts';
import { PERMANENT_ERROR } from '../../functions/lib/step-errors.ts';
import { Tally } from '../../functions/lib/telemetry.ts';
import { runPagingStep } from '../../functions/paging/handler.ts';
import { ACCOUNT_CHANGED, wakeEscalation, type Waiter } from '../../functions/lib/escalation-waits.ts';
import { STEP_RETRY, TRANSIENT_STEP_ERRORS } from '../../infra/constructs/step-retries.ts';
import type { Notification } from '../../shared/escalation/messages.ts';
import type { BrokerEvent } from '../../shared/events/broker-feedback.ts';
import { SCHEMA_VERSION, type DomainEvent, type EventDetail } from '../../shared/events/schemas.ts';
import { notificationPolicySchema, type NotificationPolicy } from '../../shared/notify/policy.ts';
import { DEFAULT_PIPELINE_CONFIG } from '../../shared/pipeline/config.ts';
import type { StoredRiskState } from '../../shared/pipeline/stored-state.ts';
import { Decimal } from '../../shared/decimal.ts';
import { MemoryBands, MemoryStore } from '../memory-store.ts';
import { prng } from '../prng.ts';
import { SimClock } from './clock.ts';
import {
  CRASH,
  FAULT_KINDS,
  Invocation,
  NO_FAULTS,
  SimError,
  type FaultKind,
  type FaultLog,
  type FaultPlan,
} from './faults.ts';
import { MemoryNotifyStore } from './memory-notify-store.ts';
import { MemoryActions, MemoryOrders, MemorySettings, type Mutation } from './ports.ts';

/** A broken invariant: its name, and what broke it. */
export interface Violation {
  invariant: Invariant;
  detail: string;
}

export const INVARIANTS = [
  /** An incident that reached LIQUIDATION ends in a published liquidation request or a delivered page. */
  'liquidation-silent',
  /** An order idempotency key is carried by one order event only (a repeat is the same event). */
  'order-key-twice',
  /** An escalation step's effect (alert, deleverage, liquidation, resolution, failure page) happens once. */
  'step-twice',
  /** Every rung of a ladder is delivered (or dead-lettered, or still held) to every route of its tier. */
  'page-lost',
  /**
   * Nobody is told one message twice (a page's rung, an alert): no delivery is made once its claim was
   * recorded as sent. (A send whose record was lost — the function died, or the store failed, between the
   * provider's answer and the write — is sent again after its 90 s lease: counted as `resent`.)
   */
  'paged-twice',
  /** Every order request and every rung taken has its audit entry. */
  'audit-missing',
  /** Every level change into an incident started its escalation, or is in the start dead-letter queue. */
  'escalation-lost',
  /**
   * A failed escalation execution whose catch path ran recorded its failure (`failed-a<n>`, what restarts
   * the incident) and audited it. (A catch path that itself ran out of retries leaves the execution
   * failed with only its ExecutionsFailed alarm: counted as `alarmedOnly`.)
   */
  'failure-unrecorded',
  /** What automation gives up on (a stream record, a ladder) is in a dead-letter queue (alarmed). */
  'record-lost',
  /** Orders are requested only at the level that calls for them, as evaluated (deleverage ≥ CRITICAL, liquidation at LIQUIDATION). */
  'level-not-evidenced',
  /** An account's level changes form a chain: each starts where the previous ended. */
  'level-chain-broken',
  /**
   * A known gap, counted and reported, not failed on: an incident that reached LIQUIDATION between two
   * re-checks and was better again at the next one, so no step saw it (no liquidation, no page). The
   * event-driven waits (a level change wakes the execution) close it.
   */
  'liquidation-unseen',
  /** The run itself broke: a process threw outside any retry, or a schedule did not settle. */
  'sim-error',
] as const;
export type Invariant = (typeof INVARIANTS)[number];

export interface SimOptions {
  seed: number;
  /** A guard removed on purpose (the mutation check). */
  mutation?: Mutation;
  /** Keep a trace of the run (events, deliveries, executions) for replay output. */
  trace?: boolean;
}

export interface SimResult {
  seed: number;
  violations: Violation[];
  /** A digest of everything that happened: the same seed gives the same digest. */
  digest: string;
  stats: {
    accounts: number;
    faults: number;
    executions: number;
    failedExecutions: number;
    pages: number;
    orders: number;
    liquidations: number;
    deliveries: number;
    steps: number;
    evaluations: number;
    /** Deliveries made again because the record of the first was lost (at least once, never after a recorded send). */
    resent: number;
    /** Incidents that touched LIQUIDATION between re-checks (the known gap above). */
    unseen: number;
    /** Audit entries of a step's effect written twice by a retry before the step was marked done. */
    auditRepeats: number;
    /** Failed executions whose catch path also ran out of retries: only the ExecutionsFailed alarm tells. */
    alarmedOnly: number;
    simulatedMs: number;
  };
  trace: string[];
}

const LEVEL_RANK = { SAFE: 0, WARNING: 1, CRITICAL: 2, LIQUIDATION: 3 } as const;

const START = Date.parse('2026-03-03T15:00:00.000Z');

const POLICY: NotificationPolicy = notificationPolicySchema.parse({
  routes: [
    { name: 'desk', channel: 'telegram', chatId: '-100' },
    { name: 'primary', channel: 'sms', phoneNumber: '+447700900101' },
    { name: 'secondary', channel: 'email', address: 'secondary@example.com' },
  ],
  rules: [
    {
      categories: ['warning', 'critical', 'liquidation', 'deleverage', 'recovery', 'system'],
      routes: ['desk'],
    },
  ],
  onCall: [
    { tier: 'primary', routes: ['primary'], ackMinutes: 5, pagesPerTier: 2 },
    { tier: 'secondary', routes: ['secondary'], ackMinutes: 5, pagesPerTier: 1 },
  ],
  fatigue: { quietPeriodMinutes: 60, digestMinutes: 60 },
});

/** Full-jitter backoff of a Step Functions retrier: attempt n (0-based) waits below min(max, interval × rate^n). */
function retryDelay(
  retrier: {
    interval: { toMilliseconds(): number };
    backoffRate: number;
    maxDelay: { toMilliseconds(): number };
  },
  n: number,
  random: () => number,
) {
  return (
    random() *
    Math.min(retrier.maxDelay.toMilliseconds(), retrier.interval.toMilliseconds() * retrier.backoffRate ** n)
  );
}

const TRANSIENT = new Set<string>(TRANSIENT_STEP_ERRORS);

/** The error name Step Functions sees for a task's failure, as Lambda reports a thrown error. */
const errorName = (e: unknown) => (e instanceof Error ? e.name : 'Error');

/** One schedule: the world a seed decides, run to its horizon, then every invariant checked. */
export async function simulate(options: SimOptions): Promise<SimResult> {
  const { seed, mutation } = options;
  const rng = prng(seed * 2654435761 + 1);
  const chance = (p: number) => rng() < p;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
  const between = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));

  const clock = new SimClock(START, prng(seed ^ 0x5bd1e995));
  const trace: string[] = [];
  const note = (line: string) => {
    trace.push(`${new Date(clock.now).toISOString().slice(11, 19)} ${line}`);
  };
  const violations: Violation[] = [];
  const violate = (invariant: Invariant, detail: string) => violations.push({ invariant, detail });

  // ── the world ────────────────────────────────────────────────────────────────────────────────
  const accounts = chance(0.25) ? 2 : 1;
  const ticks = between(3, 8);
  const tickMs = 60_000;
  const lastTick = START + ticks * tickMs;
  const windowFrom = START + between(0, ticks) * tickMs - between(0, 59) * 1000;
  const rate = pick([0, 0.03, 0.08, 0.15, 0.3]);
  const weights = Object.fromEntries(FAULT_KINDS.map((k) => [k, pick([0, 1, 2])])) as Record<
    FaultKind,
    number
  >;
  if (FAULT_KINDS.every((k) => weights[k] === 0)) weights.throttle = 1;
  const plan: FaultPlan =
    rate === 0
      ? NO_FAULTS
      : {
          from: windowFrom,
          until: windowFrom + between(20, 180) * 1000,
          rate,
          weights,
          spared: new Set(['settings'].filter(() => chance(0.5))),
        };
  const faultLog: FaultLog = new Map();
  const waitSeconds = pick([90, 120, 300]);
  // Long enough after the last tick and the faults for every retry to play out and the ladder to climb.
  const horizon = Math.max(lastTick, plan.until) + 10 * 60_000;

  // Stores, shared by every invocation (the tables).
  const store = new MemoryStore();
  const bands = new MemoryBands();
  /** Audits of a step's effect made after the step was marked done: the effect ran again. */
  const redone: string[] = [];
  let auditRepeats = 0;
  const actions: MemoryActions = new MemoryActions(
    () => clock.date(),
    mutation,
    (entry) => {
      note(`audit ${entry.action} ${entry.accountId}`);
      const step = onceStepOf(entry);
      if (!step) return;
      const key = `${entry.accountId}|${entry.incidentId}|${step}`;
      if (actions.publishedEver.has(key))
        redone.push(`${key}: ${entry.action} audited after the step was done`);
      else if (
        actions.audits.filter(
          (a) =>
            a.accountId === entry.accountId && a.incidentId === entry.incidentId && onceStepOf(a) === step,
        ).length > 1
      )
        auditRepeats += 1;
    },
  );
  const settings = new MemorySettings({
    escalation: { waitSeconds, holdPollSeconds: 120, fillTimeoutSeconds: 180, maxReplans: 2 },
    alerts: {},
  });
  const orders = new MemoryOrders();
  const notifyStore = new SimNotifyStore(mutation);

  const ids = Array.from({ length: accounts }, (_, i) => `ACC-${i + 1}`);
  let price = new Decimal(100);
  const setPrice = (p: Decimal) => {
    store.prices.set('XYZ', {
      instrument: 'XYZ',
      price: p.toFixed(2),
      priceTime: new Date(clock.now).toISOString(),
    } as never);
  };
  setPrice(price);
  for (const id of ids) {
    store.accounts.set(id, { accountId: id, model: 'reg-t', cash: String(-between(55, 72) * 100) } as never);
    store.positions.set(id, [{ accountId: id, instrument: 'XYZ', quantity: '100', avgCost: '100' } as never]);
  }

  // Observations of the harness (what AWS and the outside world saw).
  const published = new Map<string, DomainEvent>(); // eventId → event (first publish)
  const publishOrder: string[] = [];
  const incidentLevels = new Map<string, { accountId: string; worst: number; at: number[] }>();
  const deadLetters: { reason: string; record: unknown }[] = [];
  const givenUp: { kind: string; key: string }[] = [];
  const topicMessages: { channel: string; n: Notification; at: number }[] = [];
  const provider: {
    key: string;
    claim: string | null;
    afterSent: boolean;
    alertId: string;
    acked: boolean;
    at: number;
  }[] = [];
  /** Incidents the liquidation step found at LIQUIDATION (not on hold): they must end in a request or a page. */
  const sawLiquidation = new Set<string>();
  const deliveryLog: DeliveryRecord[] = [];
  const rungsTaken: { pageId: string; tier: number; attempt: number }[] = [];
  const executions = new Map<
    string,
    {
      accountId: string;
      incidentId: string;
      attempt: number;
      status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
      failRecorded: boolean;
    }
  >();
  const pagingRuns = new Map<string, { status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' }>();
  const startDlq: string[] = [];
  const leftToPeople = new Set<string>();
  const brokerSeen = new Map<string, string>(); // idempotency key → eventId that carried it first
  let simErrors = 0;
  const processError = (what: string) => (e: unknown) => {
    simErrors += 1;
    violate('sim-error', `${what}: ${(e as Error)?.stack ?? String(e)}`);
  };
  notifyStore.onAdvance = (pageId, to) => rungsTaken.push({ pageId, ...to });

  const invocation = (name: string) => new Invocation(clock, plan, rng, faultLog, name);
  const skew = () => between(-2000, 2000);

  // The bus: events as EventBridge takes them (the rules run after the put; a failed put delivers nothing).
  const bus = {
    publish: async (events: DomainEvent[]) => {
      for (const e of events) {
        if (!published.has(e.detail.eventId)) {
          published.set(e.detail.eventId, e);
          publishOrder.push(e.detail.eventId);
          note(
            `event ${e.detailType} ${e.detail.accountId}${e.detailType === 'RiskLevelChanged' ? ` ${e.detail.from}→${e.detail.to}` : ''}`,
          );
        }
        if (
          e.detailType === 'RiskLevelChanged' &&
          ['WARNING', 'CRITICAL', 'LIQUIDATION'].includes(e.detail.to)
        )
          enqueueStart(e);
        if (e.detailType === 'RiskLevelChanged') {
          const { accountId, to } = e.detail;
          clock.spawn(() => waker(accountId, `RiskLevelChanged → ${to}`), processError('waker'));
        }
        if (e.detailType === 'DeleverageRequested' || e.detailType === 'LiquidationRequested') toBroker(e);
      }
    },
  };

  // ── risk store with the harness watching what is stored ────────────────────────────────────
  const watchedStore = new Proxy(store, {
    get(target, key, receiver) {
      if (key === 'saveRiskState')
        return async (state: StoredRiskState, expected: number, history: unknown) => {
          await target.saveRiskState(state, expected, history as never);
          const incident = state.tracker.incident?.id;
          if (incident) {
            const k = `${state.accountId}|${incident}`;
            const seen = incidentLevels.get(k) ?? { accountId: state.accountId, worst: 0, at: [] };
            const rank = LEVEL_RANK[state.level as keyof typeof LEVEL_RANK] ?? 0;
            if (rank > seen.worst) seen.worst = rank;
            seen.at[rank] ??= clock.now;
            incidentLevels.set(k, seen);
          }
        };
      return Reflect.get(target, key, receiver);
    },
  });

  const evaluatorDeps = (inv: Invocation): EvaluatorDeps => ({
    store: inv.wrap('risk', watchedStore),
    bands: inv.wrap('bands', bands),
    publisher: inv.wrap('eventbridge', bus),
    deadLetter: inv.wrap('sqs', deadLetterAdapter),
    config: DEFAULT_PIPELINE_CONFIG,
    telemetry: new Tally(),
    now: () => new Date(clock.now),
  });

  const deadLetterAdapter = {
    send: async (reason: string, record: unknown) => {
      if (mutation === 'dead-letter-dropped') return;
      deadLetters.push({ reason, record });
      note(`dead-lettered ${reason}`);
    },
  };

  // ── channels and topics ────────────────────────────────────────────────────────────────────
  const sender = (channel: string, inv: Invocation): ChannelSender => ({
    send: async (d: Delivery) => {
      const claim = claims.get(inv) ?? null;
      const record = (acked: boolean) =>
        provider.push({
          key: `${d.alertId}|${d.route}|${d.subject}`,
          claim,
          afterSent: claim !== null && notifyStore.sent.has(claim),
          alertId: d.alertId,
          acked,
          at: clock.now,
        });
      const inWindow = clock.now >= plan.from && clock.now < plan.until && plan.rate > 0;
      if (inWindow && chance(plan.rate)) {
        const roll = rng();
        if (roll < 0.4)
          throw new RetryableDeliveryError(
            `${channel} answered 429`,
            channel === 'telegram' ? between(1, 90) * 1000 : undefined,
          );
        if (roll < 0.8) throw new RetryableDeliveryError(`${channel} answered 503`);
        // Delivered, but the answer was lost.
        record(false);
        throw Object.assign(new Error(`${channel}: socket hang up`), { code: 'ECONNRESET' });
      }
      record(true);
    },
  });
  /** The delivery claim each invocation took last: the dispatcher sends right after claiming. */
  const claims = new WeakMap<Invocation, string>();
  const sendersFor = (inv: Invocation) =>
    Object.fromEntries(
      ['telegram', 'email', 'sms', 'webhook', 'websocket'].map((k) => [
        k,
        inv.wrap('channel', sender(k, inv)),
      ]),
    ) as Record<'telegram' | 'email' | 'sms' | 'webhook' | 'websocket', ChannelSender>;
  const topics = {
    notify: async (channel: 'alerts' | 'pages', n: Notification) => {
      topicMessages.push({ channel, n, at: clock.now });
    },
  };

  // ── paging workflow ────────────────────────────────────────────────────────────────────────
  const pagingStarter = {
    start: async (pageId: string) => {
      const name = `page-${pageId}`;
      if (pagingRuns.has(name)) return; // ExecutionAlreadyExists: a no-op (notifications.ts)
      pagingRuns.set(name, { status: 'RUNNING' });
      note(`paging started ${pageId.slice(0, 8)}`);
      clock.spawn(() => pagingExecution(pageId, name), processError(`paging ${pageId}`));
    },
  };

  const claimWatcher = (inv: Invocation) =>
    new Proxy(notifyStore, {
      get(target, key, receiver) {
        if (key === 'claimDelivery')
          return async (accountId: string, k: string, at: string, leaseMs?: number) => {
            const out = await target.claimDelivery(accountId, k, at, leaseMs);
            if (out.claimed) claims.set(inv, `${accountId}|${k}`);
            return out;
          };
        return Reflect.get(target, key, receiver);
      },
    });
  const dispatcherFor = (inv: Invocation) => {
    const offset = skew();
    const dispatcher: Dispatcher = new Dispatcher({
      policy: async () => POLICY,
      store: inv.wrap('notify-store', claimWatcher(inv)),
      senders: sendersFor(inv),
      deadLetter: inv.wrap('sqs', deadLetterAdapter),
      paging: inv.wrap('sfn', pagingStarter),
      audit: (entry) => inv.wrap('actions', actions).audit(entry),
      topics: inv.wrap('sns', topics),
      log: (r) => void deliveryLog.push(r),
      ack: { secret: async () => 'sim-secret', baseUrl: 'https://sim.example/ack' },
      now: () => new Date(clock.now + offset),
      retry: { sleep: clock.sleep },
      sleep: clock.sleep,
      backoffSleep: clock.sleep,
      random: rng,
    });
    return dispatcher;
  };

  /** A Step Functions task: invoked until it succeeds or its retriers give up (infra/constructs/step-retries.ts). */
  async function task<T>(
    name: string,
    run: (inv: Invocation) => Promise<T>,
    /** Errors a retrier sends on at once (maxAttempts 0), as the callback tasks' AccountChanged. */
    notRetried: readonly string[] = [],
  ): Promise<{ ok: true; value: T } | { ok: false; error: { Error: string; Cause: string } }> {
    const counts = { transient: 0, unclassified: 0 };
    for (;;) {
      const inv = invocation(name);
      let failure: unknown = null;
      let value: T | undefined;
      try {
        value = await run(inv);
      } catch (e) {
        failure = e;
      }
      // A function that died, or ran past its 60 s timeout, is reported as timed out whatever it returned.
      if (inv.crashed || clock.now - inv.startedAt > 60_000)
        failure = new SimError(CRASH, `${name} timed out`);
      // The invocation succeeded but its answer was lost (Lambda.Unknown): run again.
      else if (
        failure === null &&
        plan.rate > 0 &&
        clock.now >= plan.from &&
        clock.now < plan.until &&
        chance(plan.rate / 3)
      )
        failure = new SimError('Lambda.Unknown', `${name}: the answer was lost`);
      if (failure === null) return { ok: true, value: value as T };
      const errorType = errorName(failure);
      const cause = (failure as Error).message ?? String(failure);
      let wait: number;
      if (errorType === PERMANENT_ERROR || notRetried.includes(errorType))
        return { ok: false, error: { Error: errorType, Cause: cause } };
      if (TRANSIENT.has(errorType)) {
        if (counts.transient >= STEP_RETRY.transient.maxAttempts)
          return { ok: false, error: { Error: errorType, Cause: cause } };
        wait = retryDelay(STEP_RETRY.transient, counts.transient++, rng);
      } else {
        if (counts.unclassified >= STEP_RETRY.unclassified.maxAttempts)
          return { ok: false, error: { Error: errorType, Cause: cause } };
        wait = retryDelay(STEP_RETRY.unclassified, counts.unclassified++, rng);
      }
      note(`retry ${name} after ${errorType}: ${cause.slice(0, 80)}`);
      await clock.sleep(wait);
    }
  }

  const escalationDeps = (inv: Invocation): EscalationDeps => ({
    ...evaluatorDeps(inv),
    repo: inv.wrap('risk', watchedStore) as never,
    actions: inv.wrap('actions', actions) as never,
    settings: inv.wrap('settings', settings) as never,
    notifier: inv.wrap('sns', topics),
    orders: inv.wrap('orders', orders),
    alerts: dispatcherFor(inv),
    waits: inv.wrap('actions', waitStore),
    now: () => new Date(clock.now + skew()),
  });

  // ── event-driven waits (4c41f85): the wait step stores a task token, the waker completes it ─────
  const waiters = new Map<string, Waiter>();
  const waitStore = {
    put: async (w: Waiter) => void waiters.set(w.accountId, structuredClone(w)),
    get: async (accountId: string) => structuredClone(waiters.get(accountId) ?? null),
    clear: async (accountId: string, token: string) => {
      if (waiters.get(accountId)?.token === token) waiters.delete(accountId);
    },
  };
  /** Callback tasks waiting on their token: completing one ends its wait. */
  const waitingTasks = new Map<string, () => void>();
  let tokens = 0;
  const callbacks = {
    succeed: async (token: string) => {
      const complete = waitingTasks.get(token);
      if (!complete) return false; // TaskTimedOut / TaskDoesNotExist: not waiting
      complete();
      return true;
    },
  };
  /** The WakeOnLevelChange rule's Lambda target: async, retried, then its dead-letter queue. */
  async function waker(accountId: string, reason: string) {
    for (let attempt = 0; ; attempt++) {
      const inv = invocation('waker');
      try {
        await wakeEscalation(accountId, reason, {
          waits: inv.wrap('actions', waitStore),
          callbacks: inv.wrap('sfn', callbacks),
        });
        if (!inv.crashed) return;
      } catch {
        // retried below
      }
      if (attempt >= 8) {
        givenUp.push({ kind: 'wake', key: `${accountId} ${reason}` });
        await deadLetterAdapter.send('wake-failed', { accountId, reason });
        return;
      }
      await clock.sleep(Math.min(60_000, 1000 * 2 ** attempt));
    }
  }

  /** The escalation workflow as its definition (infra/constructs/escalation.ts) chains the steps. */
  async function escalationExecution(
    name: string,
    input: { accountId: string; incidentId: string; attempt: number },
  ) {
    const run = executions.get(name)!;
    const step = (action: string) =>
      task(`${name}:${action}`, (inv) =>
        runStep({ action, accountId: input.accountId, incidentId: input.incidentId }, escalationDeps(inv)),
      );
    type At =
      | 'alert'
      | 'wait-alert'
      | 'hold-alert'
      | 'check-alert'
      | 'deleverage'
      | 'wait-del'
      | 'hold-del'
      | 'check-del'
      | 'liquidate'
      | 'resolve';
    let out: StepOutput | null = null;
    const decide = (o: StepOutput, critical: At, warning: At, hold: At): At =>
      o.recovered
        ? 'resolve'
        : o.held
          ? hold
          : o.level === 'LIQUIDATION'
            ? 'liquidate'
            : o.level === 'CRITICAL'
              ? critical
              : warning;
    /** The catch path: page on-call about the failure (retried, not caught), then fail. */
    const failed = async (error: { Error: string; Cause: string }, action: string) => {
      note(`${name} ${action} failed: ${error.Error}`);
      const paged = await task(`${name}:fail`, (inv) =>
        runStep(
          {
            action: 'fail',
            accountId: input.accountId,
            incidentId: input.incidentId,
            error,
            execution: { attempt: input.attempt },
          },
          escalationDeps(inv),
        ),
      );
      run.failRecorded = paged.ok;
      run.status = 'FAILED';
    };
    let at: At = 'alert';
    for (;;) {
      if (at.startsWith('hold-')) {
        await clock.sleep(out!.holdPollSeconds * 1000);
        at = at.endsWith('alert') ? 'check-alert' : 'check-del';
        continue;
      }
      if (at.startsWith('wait-')) {
        // A callback task (waitForTaskToken): each attempt has its own token; the wait step stores it and
        // may end the wait at once (AccountChanged, caught, never retried); otherwise the task waits for
        // the waker or its timeout ($.wakeSeconds: the backstop, or waitSeconds while orders work).
        const level = out!.level;
        const wakeSeconds = (out as StepOutput & { wakeSeconds?: number }).wakeSeconds ?? out!.waitSeconds;
        let token = '';
        const started = await task(
          `${name}:wait`,
          (inv) => {
            token = `${name}#${++tokens}`;
            return runStep(
              {
                action: 'wait',
                accountId: input.accountId,
                incidentId: input.incidentId,
                taskToken: token,
                level,
              },
              escalationDeps(inv),
            );
          },
          [ACCOUNT_CHANGED],
        );
        if (!started.ok && started.error.Error !== ACCOUNT_CHANGED) {
          await failed(started.error, 'wait');
          return;
        }
        if (started.ok) {
          const timeout = clock.timer(wakeSeconds * 1000);
          await new Promise<void>((resume) => {
            waitingTasks.set(token, () => {
              timeout.cancel();
              resume();
            });
            void timeout.done.then(resume);
          });
          waitingTasks.delete(token);
        }
        at = at.endsWith('alert') ? 'check-alert' : 'check-del';
        continue;
      }
      const action = at.startsWith('check') ? 'check' : at;
      const result = await step(action);
      if (!result.ok) {
        await failed(result.error, action);
        return;
      }
      out = result.value;
      // The liquidation step found it at LIQUIDATION (a re-check's LIQUIDATION better again by the time
      // the step ran is skipped by design: counted as `unseen`).
      if (action === 'liquidate' && out.level === 'LIQUIDATION' && !out.held && !out.recovered)
        sawLiquidation.add(`${input.accountId}|${input.incidentId}`);
      switch (at) {
        case 'alert':
          at = decide(out, 'deleverage', 'wait-alert', 'hold-alert');
          break;
        case 'check-alert':
          at = decide(out, 'deleverage', 'wait-alert', 'hold-alert');
          break;
        case 'deleverage':
          at = 'wait-del';
          break;
        case 'check-del':
          at = decide(out, 'wait-del', 'wait-del', 'hold-del');
          break;
        case 'liquidate':
        case 'resolve':
          run.status = 'SUCCEEDED';
          note(`${name} ${at === 'liquidate' ? 'liquidation requested' : 'resolved'}`);
          return;
      }
    }
  }

  /** The paging workflow: page the first tier, wait, escalate unless acknowledged …; the catch path reports. */
  async function pagingExecution(pageId: string, name: string) {
    const run = pagingRuns.get(name)!;
    const step = (payload: Record<string, unknown>) =>
      task(`${name}:${String(payload.action)}`, (inv) => {
        const dispatcher = dispatcherFor(inv);
        const sqs = inv.wrap('sqs', deadLetterAdapter);
        const sns = inv.wrap('sns', topics);
        return runPagingStep(payload, {
          pageStep: (a, id, from) => dispatcher.pageStep(a, id, from),
          flushHeld: () => dispatcher.flushHeld(),
          reportFailure: async (f) => {
            await sqs.send('paging-failed', f);
            await sns.notify('alerts', {
              subject: 'paging failed',
              message: JSON.stringify(f),
              severity: 'critical',
              level: null,
              accountId: '-',
              kind: 'failure',
            });
          },
        }) as Promise<{ done: boolean; waitSeconds: number; tier: number; attempt: number }>;
      });
    let result = await step({ action: 'start', pageId });
    while (result.ok && !result.value.done) {
      await clock.sleep(result.value.waitSeconds * 1000);
      result = await step({
        action: 'escalate',
        pageId,
        tier: result.value.tier,
        attempt: result.value.attempt,
      });
    }
    if (result.ok) {
      run.status = 'SUCCEEDED';
      return;
    }
    note(`${name} failed: ${result.error.Error}`);
    await step({ action: 'failed', pageId, error: result.error });
    givenUp.push({ kind: 'paging', key: pageId });
    run.status = 'FAILED';
  }

  // ── the escalation starter: SQS start queue → the real handler → Step Functions ────────────
  const queue: { id: string; body: string; visibleAt: number; receives: number }[] = [];
  let messages = 0;
  function enqueueStart(e: Extract<DomainEvent, { detailType: 'RiskLevelChanged' }>) {
    const body = JSON.stringify({ 'detail-type': 'RiskLevelChanged', detail: e.detail });
    queue.push({ id: `m${++messages}`, body, visibleAt: clock.now + between(0, 3000), receives: 0 });
    // At-least-once: now and then the rule's target delivers the event twice.
    if (chance(0.1))
      queue.push({ id: `m${++messages}`, body, visibleAt: clock.now + between(0, 20_000), receives: 0 });
    // The event source polls while there are messages (the poller ends when the queue is empty).
    if (!polling) {
      polling = true;
      clock.spawn(starterPoller, processError('starter'));
    }
  }
  let polling = false;
  const sfn = {
    send: async (command: StartExecutionCommand) => {
      const name = command.input.name!;
      if (executions.has(name))
        throw new ExecutionAlreadyExists({ message: `execution ${name} exists`, $metadata: {} });
      const input = JSON.parse(command.input.input!) as {
        accountId: string;
        incidentId: string;
        attempt: number;
      };
      executions.set(name, { ...input, status: 'RUNNING', failRecorded: false });
      note(`execution ${name.slice(-12)} attempt ${input.attempt}`);
      clock.spawn(() => escalationExecution(name, input), processError(`execution ${name}`));
      return {};
    },
  };
  async function starterPoller() {
    while (queue.length > 0) {
      await clock.sleep(1000);
      const visible = queue.filter((m) => m.visibleAt <= clock.now);
      if (visible.length === 0) continue;
      // Reordered: SQS standard queues give no order.
      const batch = visible.sort(() => rng() - 0.5).slice(0, ESCALATION_START_LIMITS.batchSize);
      const inv = invocation('starter');
      const handler = makeStarterHandler(() => ({
        sfn: inv.wrap('sfn', sfn),
        stateMachineArn: 'arn:sim:escalation',
        deadLetter: inv.wrap('sqs', deadLetterAdapter),
        telemetry: new Tally(),
        log: {
          info: (...args: unknown[]) => {
            const r = args[1];
            const reason = (r as { reason?: string })?.reason ?? '';
            if (reason.includes('left to people')) leftToPeople.add(JSON.stringify(r));
          },
          warn: () => {},
          error: () => {},
        },
        start: { sleep: clock.sleep, random: rng },
        failedAttempts: (a, i) =>
          countFailedAttempts((x, y, s) => inv.wrap('actions', actions).getStep(x, y, s), a, i),
      }));
      for (const m of batch) m.receives += 1;
      let failedIds: Set<string>;
      try {
        const out = await handler({
          Records: batch.map((m) => ({ messageId: m.id, body: m.body }) as SQSRecord),
        });
        failedIds = new Set(out.batchItemFailures.map((f) => f.itemIdentifier));
      } catch {
        failedIds = new Set(batch.map((m) => m.id));
      }
      if (inv.crashed) failedIds = new Set(batch.map((m) => m.id));
      for (const m of batch) {
        if (!failedIds.has(m.id)) {
          queue.splice(queue.indexOf(m), 1);
          continue;
        }
        if (m.receives >= ESCALATION_START_LIMITS.maxReceiveCount) {
          queue.splice(queue.indexOf(m), 1);
          startDlq.push(m.body);
          note('start message dead-lettered');
        } else m.visibleAt = clock.now + ESCALATION_START_LIMITS.functionTimeoutSeconds * 6 * 1000;
      }
    }
    polling = false;
  }

  // ── evaluations: ticks and position changes, as the stream handlers retry them ─────────────
  async function evaluate(accountId: string, why: string) {
    for (let attempt = 1; ; attempt++) {
      const inv = invocation(`evaluate ${accountId}`);
      try {
        await evaluateAccount(accountId, evaluatorDeps(inv));
        if (!inv.crashed) return;
      } catch {
        // retried below
      }
      if (attempt >= 6) {
        givenUp.push({ kind: 'stream-record', key: `${accountId} ${why}` });
        await deadLetterAdapter.send('stream-record-failed', { accountId, why });
        return;
      }
      await clock.sleep(1000 * 2 ** attempt);
    }
  }

  async function priceFeed() {
    for (const id of ids) await evaluate(id, 'first look');
    const drift = pick([-0.03, -0.02, -0.01, 0.005]);
    for (let i = 1; i <= ticks; i++) {
      await clock.sleep(tickMs);
      const move = drift + (rng() - 0.5) * 0.06;
      price = Decimal.max(new Decimal(20), price.times(1 + move).toDecimalPlaces(2));
      setPrice(price);
      for (const id of ids) {
        await evaluate(id, `tick ${i}`);
        if (chance(0.1)) await evaluate(id, `tick ${i} again`); // a duplicated stream record
      }
    }
  }

  // ── the broker: the order system keeps each idempotency key once; fills move the book ──────
  function toBroker(e: Extract<DomainEvent, { detailType: 'DeleverageRequested' | 'LiquidationRequested' }>) {
    const detail = e.detail as EventDetail<'DeleverageRequested'>;
    for (const o of detail.orders) {
      const first = brokerSeen.get(o.idempotencyKey);
      if (first !== undefined) {
        if (first !== detail.eventId)
          violate(
            'order-key-twice',
            `order key ${o.idempotencyKey} in events ${first} and ${detail.eventId}`,
          );
        continue; // the order system drops a repeat
      }
      brokerSeen.set(o.idempotencyKey, detail.eventId);
      const behaviour = pick(['fill', 'fill', 'fill', 'partial', 'reject', 'silent'] as const);
      clock.spawn(() => brokerWorks(detail, o, behaviour), processError('broker'));
    }
  }
  async function brokerWorks(
    detail: EventDetail<'DeleverageRequested'>,
    o: EventDetail<'DeleverageRequested'>['orders'][number],
    behaviour: 'fill' | 'partial' | 'reject' | 'silent',
  ) {
    await clock.sleep(between(2, 90) * 1000);
    if (behaviour === 'silent') return;
    const feedback: BrokerEvent[] = [];
    const base = {
      schemaVersion: SCHEMA_VERSION,
      accountId: detail.accountId,
      idempotencyKey: o.idempotencyKey,
      occurredAt: new Date(clock.now).toISOString(),
    } as const;
    feedback.push({
      detailType: 'OrderAccepted',
      detail: {
        ...base,
        eventId: `${o.idempotencyKey}:acc`,
        brokerOrderId: `B-${o.idempotencyKey.slice(0, 6)}`,
      },
    } as BrokerEvent);
    if (behaviour === 'reject')
      feedback.push({
        detailType: 'OrderRejected',
        detail: { ...base, eventId: `${o.idempotencyKey}:rej`, reason: 'risk check' },
      } as BrokerEvent);
    else {
      const qty = new Decimal(o.quantity);
      const filled = behaviour === 'fill' ? qty : qty.div(4).toDecimalPlaces(0, Decimal.ROUND_DOWN);
      const fillPrice = price.toFixed(2);
      if (filled.gt(0)) {
        // The book moves: the account sells what filled at the price now.
        const positions = store.positions.get(detail.accountId) ?? [];
        store.positions.set(
          detail.accountId,
          positions
            .map((p) =>
              p.instrument === o.instrument
                ? { ...p, quantity: Decimal.max(0, new Decimal(String(p.quantity)).minus(filled)).toFixed() }
                : p,
            )
            .filter((p) => new Decimal(String(p.quantity)).gt(0)),
        );
        const account = store.accounts.get(detail.accountId)!;
        store.accounts.set(detail.accountId, {
          ...account,
          cash: new Decimal(String(account.cash)).plus(filled.times(fillPrice)).toFixed(),
        } as never);
      }
      feedback.push({
        detailType: 'OrderFilled',
        detail: {
          ...base,
          eventId: `${o.idempotencyKey}:fill`,
          quantity: filled.toFixed(),
          cumulativeQuantity: filled.toFixed(),
          price: fillPrice,
          fees: '0',
          final: behaviour === 'fill',
        },
      } as BrokerEvent);
      if (behaviour === 'partial')
        feedback.push({
          detailType: 'OrderCancelled',
          detail: {
            ...base,
            eventId: `${o.idempotencyKey}:cxl`,
            reason: 'IOC remainder',
            cumulativeQuantity: filled.toFixed(),
          },
        } as BrokerEvent);
    }
    // Feedback arrives duplicated and out of order; each is applied idempotently.
    const arrivals = feedback.flatMap((f) => (chance(0.2) ? [f, f] : [f])).sort(() => rng() - 0.5);
    for (const f of arrivals) await orders.apply(f);
    await evaluate(detail.accountId, 'position change');
  }

  // ── people and schedules ───────────────────────────────────────────────────────────────────
  async function onCall() {
    const acked = new Set<string>();
    const ackAfter = chance(0.5) ? between(1, 14) * 60_000 : Infinity;
    while (clock.now < horizon) {
      await clock.sleep(30_000);
      for (const [pageId, page] of notifyStore.pages) {
        if (acked.has(pageId) || clock.now - Date.parse(page.createdAt) < ackAfter) continue;
        acked.add(pageId);
        await dispatcherFor(invocation('ack'))
          .acknowledge(pageId, 'on-call')
          .catch(() => acked.delete(pageId));
      }
    }
  }
  async function flushSchedule() {
    while (clock.now < horizon) {
      await clock.sleep(60_000);
      await dispatcherFor(invocation('flush'))
        .flushHeld()
        .catch(() => {});
    }
  }

  clock.spawn(priceFeed, processError('price feed'));
  clock.spawn(onCall, processError('on-call'));
  clock.spawn(flushSchedule, processError('flush'));
  await clock.run(horizon);

  // ── invariants ─────────────────────────────────────────────────────────────────────────────
  const events = publishOrder.map((id) => published.get(id)!);
  const orderEvents = events.filter(
    (e): e is Extract<DomainEvent, { detailType: 'DeleverageRequested' | 'LiquidationRequested' }> =>
      e.detailType === 'DeleverageRequested' || e.detailType === 'LiquidationRequested',
  );
  const sentPage = (accountId: string, incidentId: string) =>
    deliveryLog.some(
      (r) =>
        r.status === 'sent' &&
        r.page &&
        r.accountId === accountId &&
        r.alertId.startsWith(`${accountId}:${incidentId}:`),
    ) || provider.some((p) => p.alertId.startsWith(`${accountId}:${incidentId}:`) && p.key.includes('PAGE'));

  // liquidation-silent (and the known gap, liquidation-unseen)
  let unseen = 0;
  for (const [k, seen] of incidentLevels) {
    if (seen.worst < LEVEL_RANK.LIQUIDATION) continue;
    const [accountId, incidentId] = k.split('|') as [string, string];
    const liquidated = orderEvents.some(
      (e) => e.detailType === 'LiquidationRequested' && e.detail.incidentId === incidentId,
    );
    const pagedTopic = topicMessages.some(
      (m) => m.channel === 'pages' && m.n.accountId === accountId && m.at >= seen.at[LEVEL_RANK.LIQUIDATION]!,
    );
    if (!liquidated && !sentPage(accountId, incidentId) && !pagedTopic && !sawLiquidation.has(k)) unseen += 1;
    else if (!liquidated && !sentPage(accountId, incidentId) && !pagedTopic)
      violate(
        'liquidation-silent',
        `${accountId} incident ${incidentId.slice(0, 12)} reached LIQUIDATION at ${new Date(seen.at[3]!).toISOString()}: no liquidation request, no page`,
      );
  }

  // order-key-twice: within the events themselves (the broker check above sees publishes as they happen)
  const byStep = new Map<string, string>();
  for (const e of orderEvents) {
    const d = e.detail as EventDetail<'DeleverageRequested'>;
    const k = `${d.accountId}|${d.incidentId}|${d.step}`;
    const other = byStep.get(k);
    if (other && other !== d.eventId)
      violate('order-key-twice', `two order events for ${k}: ${other}, ${d.eventId}`);
    byStep.set(k, d.eventId);
  }

  // step-twice: an effect audited after its step was marked done ran twice. (A retry after the effect and
  // before the mark repeats only the audit entry — the deliveries are claimed, the orders the same event —
  // counted as auditRepeats.)
  for (const r of redone) violate('step-twice', r);
  const liquidationEvents = new Map<string, number>();
  for (const e of orderEvents)
    if (e.detailType === 'LiquidationRequested')
      liquidationEvents.set(e.detail.incidentId, (liquidationEvents.get(e.detail.incidentId) ?? 0) + 1);
  for (const [i, n] of liquidationEvents)
    if (n > 1) violate('step-twice', `incident ${i.slice(0, 12)} liquidated ${n} times`);

  // page-lost / paged-twice / audit-missing (rungs)
  for (const rung of rungsTaken) {
    const tier = POLICY.onCall[rung.tier]!;
    for (const route of tier.routes) {
      const records = deliveryLog.filter(
        (r) =>
          r.page?.pageId === rung.pageId &&
          r.page.tier === tier.tier &&
          r.page.attempt === rung.attempt &&
          r.route === route,
      );
      const page = notifyStore.pages.get(rung.pageId) as
        { accountId: string; alert?: { id: string } } | undefined;
      const claim = `${page?.accountId}|${page?.alert?.id}#${route}#page-t${rung.tier}-a${rung.attempt}`;
      // Sent (the provider has it, whether or not the log line after it was written), or dead-lettered.
      const done =
        provider.some((p) => p.claim === claim) ||
        records.some((r) => r.status === 'sent' || r.status === 'failed');
      const pending = [...notifyStore.held.values()].some(
        (h) =>
          h.page?.pageId === rung.pageId &&
          h.page.tier === tier.tier &&
          h.page.attempt === rung.attempt &&
          h.delivery.route === route,
      );
      if (!done && !pending)
        violate(
          'page-lost',
          `page ${rung.pageId.slice(0, 8)} rung ${tier.tier}/${rung.attempt} never reached ${route}`,
        );
    }
    const audited = actions.audits.some(
      (a) =>
        ['page', 'page-escalated', 'page-repeated'].includes(a.action) &&
        a.details?.pageId === rung.pageId &&
        a.details?.tier === tier.tier &&
        a.details?.attempt === rung.attempt,
    );
    if (!audited)
      violate(
        'audit-missing',
        `page ${rung.pageId.slice(0, 8)} rung ${tier.tier}/${rung.attempt} taken without its audit entry`,
      );
  }
  for (const [pageId, page] of notifyStore.pages) {
    if (!pagingRuns.has(`page-${pageId}`))
      violate(
        'page-lost',
        `page ${pageId.slice(0, 8)} (${page.accountId}) created but its ladder never started`,
      );
  }
  let resent = 0;
  const delivered = new Map<string, number>();
  for (const p of provider) {
    if (p.afterSent)
      violate(
        'paged-twice',
        `${p.key.slice(0, 120)}: delivered again after its claim ${p.claim} was recorded as sent`,
      );
    if (p.claim === null) violate('paged-twice', `${p.key.slice(0, 120)}: delivered without a claim`);
    delivered.set(p.key, (delivered.get(p.key) ?? 0) + 1);
  }
  for (const n of delivered.values()) if (n > 1) resent += n - 1;

  // audit-missing (orders)
  for (const e of orderEvents) {
    const d = e.detail as EventDetail<'DeleverageRequested'>;
    const audited = actions.audits.some(
      (a) =>
        a.accountId === d.accountId &&
        a.incidentId === d.incidentId &&
        ((['deleverage', 'liquidate'].includes(a.action) && a.details?.eventId === d.eventId) ||
          (a.action === 'deleverage-replanned' && a.details?.step === d.step)),
    );
    // An execution still running (or stopped at the horizon) may not have audited yet; one that ended has.
    const stillRunning = [...executions.values()].some(
      (x) => x.incidentId === d.incidentId && x.status === 'RUNNING',
    );
    if (!audited && !stillRunning)
      violate(
        'audit-missing',
        `${e.detailType} ${d.eventId.slice(0, 12)} (${d.step}) without its audit entry`,
      );
  }

  // escalation-lost
  for (const e of events) {
    if (e.detailType !== 'RiskLevelChanged' || e.detail.to === 'SAFE' || !e.detail.incidentId) continue;
    const started = [...executions.values()].some((x) => x.incidentId === e.detail.incidentId);
    const dlq = startDlq.some((b) => b.includes(e.detail.eventId));
    const queued = queue.some((m) => m.body.includes(e.detail.eventId));
    if (!started && !dlq && !queued && leftToPeople.size === 0)
      violate(
        'escalation-lost',
        `${e.detail.accountId} → ${e.detail.to} (incident ${e.detail.incidentId.slice(0, 12)}): no execution, not in the start queue or its DLQ`,
      );
  }

  // failure-unrecorded / record-lost
  let alarmedOnly = 0;
  for (const [name, x] of executions) {
    if (x.status !== 'FAILED') continue;
    if (!x.failRecorded) {
      alarmedOnly += 1;
      continue;
    }
    const recorded =
      actions.steps.get(`${x.accountId}|${x.incidentId}|failed-a${x.attempt}`)?.status === 'published';
    const audited = actions.audits.some(
      (a) =>
        a.action === 'escalation-failed' && a.incidentId === x.incidentId && a.details?.attempt === x.attempt,
    );
    if (!recorded || !audited)
      violate(
        'failure-unrecorded',
        `execution ${name.slice(-16)}: its catch path ran, the failure not recorded (${recorded}) or audited (${audited})`,
      );
  }
  for (const g of givenUp) {
    const inDlq = deadLetters.some((d) => JSON.stringify(d.record).includes(g.key.split(' ')[0]!));
    if (!inDlq) violate('record-lost', `${g.kind} ${g.key} given up and not dead-lettered`);
  }

  // level-not-evidenced
  for (const e of orderEvents) {
    const d = e.detail as EventDetail<'DeleverageRequested'>;
    const seen = incidentLevels.get(`${d.accountId}|${d.incidentId}`);
    const needed = e.detailType === 'LiquidationRequested' ? LEVEL_RANK.LIQUIDATION : LEVEL_RANK.CRITICAL;
    if (!seen || seen.worst < needed)
      violate(
        'level-not-evidenced',
        `${e.detailType} for ${d.accountId} whose incident was at worst rank ${seen?.worst ?? 'none'}`,
      );
  }

  // level-chain-broken
  const lastLevel = new Map<string, string | null>();
  for (const e of events) {
    if (e.detailType !== 'RiskLevelChanged') continue;
    const prev = lastLevel.get(e.detail.accountId);
    if (prev !== undefined && e.detail.from !== prev)
      violate('level-chain-broken', `${e.detail.accountId}: ${prev} then ${e.detail.from}→${e.detail.to}`);
    lastLevel.set(e.detail.accountId, e.detail.to);
  }
  if (
    simErrors === 0 &&
    clock.pending >
      4 +
        [...executions.values()].filter((x) => x.status === 'RUNNING').length +
        [...pagingRuns.values()].filter((x) => x.status === 'RUNNING').length
  )
    violate('sim-error', `${clock.pending} processes left at the horizon`);

  const digestInput = [
    ...trace,
    ...deliveryLog.map((r) => `${r.status}|${r.alertId}|${r.route ?? ''}|${r.page?.tier ?? ''}`),
    ...actions.audits.map((a) => `${a.at}|${a.action}|${a.accountId}`),
  ].join('\n');
  return {
    seed,
    violations,
    digest: fnv(digestInput),
    stats: {
      accounts,
      faults: [...faultLog.values()].reduce((a, b) => a + b, 0),
      executions: executions.size,
      failedExecutions: [...executions.values()].filter((x) => x.status === 'FAILED').length,
      pages: notifyStore.pages.size,
      orders: orderEvents.length,
      liquidations: orderEvents.filter((e) => e.detailType === 'LiquidationRequested').length,
      deliveries: provider.length,
      steps: clock.steps,
      evaluations: store.evaluations,
      resent,
      unseen,
      auditRepeats,
      alarmedOnly,
      simulatedMs: clock.now - START,
    },
    trace: options.trace ? trace : [],
  };
}

/** The step record whose completion an audit entry of a once-per-incident effect belongs to (steps.ts). */
function onceStepOf(entry: { action: string; details?: Record<string, unknown> }): string | null {
  switch (entry.action) {
    case 'alert':
      return 'alert';
    case 'resolved':
      return 'resolve';
    case 'deleverage':
      return 'deleverage';
    case 'liquidate':
      return 'liquidate';
    case 'escalation-failed':
      return `failed-a${String(entry.details?.attempt ?? 0)}`;
    case 'deleverage-replanned':
      return String(entry.details?.step);
    default:
      return null;
  }
}

/** FNV-1a, 32 bits, hex: a digest of the run for the determinism check. */
function fnv(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** The notify store with the harness watching rungs taken, and the mutation check's broken guards. */
class SimNotifyStore extends MemoryNotifyStore {
  onAdvance: (pageId: string, to: { tier: number; attempt: number }) => void = () => {};
  /** Delivery claims recorded as sent (`accountId|key`). */
  readonly sent = new Set<string>();

  override async settleDelivery(
    accountId: string,
    key: string,
    status: 'sent' | 'failed' | 'deferred',
    attempts: number,
  ) {
    await super.settleDelivery(accountId, key, status, attempts);
    if (status === 'sent') this.sent.add(`${accountId}|${key}`);
  }

  constructor(private readonly mutation?: Mutation) {
    super();
  }

  override async claimDelivery(accountId: string, key: string, at: string, leaseMs?: number) {
    if (this.mutation === 'delivery-claim-unconditional') {
      this.deliveries.set(`${accountId}|${key}`, {
        status: 'claimed',
        leaseUntil: Date.parse(at) + (leaseMs ?? 90_000),
      });
      return { claimed: true } as const;
    }
    return super.claimDelivery(accountId, key, at, leaseMs);
  }

  override async advancePage(
    pageId: string,
    from: { tier: number; attempt: number },
    to: { tier: number; attempt: number },
  ) {
    const ok = await super.advancePage(pageId, from, to);
    if (ok) this.onAdvance(pageId, to);
    return ok;
  }
}
