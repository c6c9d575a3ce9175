import { ExecutionAlreadyExists, type StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { ChannelSender } from '../functions/lib/channels/delivery.ts';
import { Dispatcher, type DeliveryRecord } from '../functions/lib/dispatcher.ts';
import { NotifyStore } from '../functions/lib/notify-store.ts';
import { POLICY_SETTING, readPolicy } from '../functions/lib/policy-setting.ts';
import { runPagingStep } from '../functions/paging/handler.ts';
import { apiDeps } from '../functions/api/handler.ts';
import type { ApiDeps } from '../functions/api/routes.ts';
import { alertApproaching } from '../functions/lib/approaching.ts';
import { changedItem, messagesForChanges, type ChangedItem } from '../functions/lib/broadcast.ts';
import { OverviewRepository } from '../functions/lib/overview-repository.ts';
import { refreshSummary } from '../functions/summary/handler.ts';
import { eventMessages, type ChannelMessage } from '../shared/console/channels.ts';
import { countFailedAttempts, startEscalation } from '../functions/escalation-starter/start.ts';
import { runStep, type EscalationDeps } from '../functions/escalation/steps.ts';
import { ActionsRepository, SettingsRepository } from '../functions/lib/actions-repository.ts';
import type { DeadLetter } from '../functions/lib/queues.ts';
import { RiskRepository } from '../functions/lib/risk-repository.ts';
import type { HandlerDeps } from '../functions/lib/runtime.ts';
import { Tally } from '../functions/lib/telemetry.ts';
import { makePositionStreamHandler } from '../functions/position-stream/handler.ts';
import { BandRepository } from '../functions/lib/bands-repository.ts';
import { makePriceStreamHandler } from '../functions/price-stream/handler.ts';
import { makeSweepHandler } from '../functions/sweep/handler.ts';
import { makeWatchHandler } from '../functions/watch/handler.ts';
import { makeWorkQueueHandler } from '../functions/work-queue/handler.ts';
import { Decimal, toEdge, toEdgeOrNull } from '../shared/decimal.ts';
import type { DomainEvent, EventDetail } from '../shared/events/schemas.ts';
import { evaluate } from '../shared/margin/evaluate.ts';
import { pipelineConfigSchema } from '../shared/pipeline/config.ts';
import {
  heldPositions,
  toEngineInput,
  type AccountItem,
  type PositionItem,
  type PriceItem,
} from '../shared/pipeline/records.ts';
import type { PriceBar } from '../shared/replay/prices-csv.ts';
import {
  DEFAULT_THRESHOLDS,
  thresholdsSchema,
  type RiskLevel,
  type Thresholds,
} from '../shared/risk/levels.ts';
import { BarClock } from './bar-clock.ts';
import { LocalWorkQueue } from './work-queue.ts';
import { BrokerSimulator, type BrokerBehaviour } from './broker-simulator.ts';
import { handleBrokerFeedback, type FeedbackDeps } from '../functions/broker-feedback/handler.ts';
import { InsuranceFundLedger } from '../functions/lib/insurance-fund.ts';
import { OrdersRepository } from '../functions/lib/orders-repository.ts';
import { BROKER_EVENT_SOURCE } from '../shared/events/broker-feedback.ts';
import { startDynamoDbLocal } from './dynamodb-local.ts';
import {
  pagingDefinition,
  startEscalationRun,
  startRun,
  type LocalExecution,
  type LocalRun,
} from './escalation-runner.ts';
import type { Scenario } from './scenario.ts';
import { JsonlFile, LocalBus, LocalNotifier } from './sinks.ts';
import { StreamTail } from './stream-tail.ts';
import { createTables, localClient } from './tables.ts';

export type TimelineKind =
  | 'level'
  | 'margin-call'
  | 'call-resolved'
  | 'deleverage'
  | 'liquidation'
  | 'fill'
  | 'alert'
  | 'page'
  | 'ack'
  | 'data';

export interface TimelineEntry {
  date: string;
  accountId: string;
  kind: TimelineKind;
  text: string;
  level?: RiskLevel;
}

export interface SeriesPoint {
  date: string;
  ratio: string | null;
  level: RiskLevel | null;
  equity: string | null;
}

export interface LocalResult {
  timeline: TimelineEntry[];
  series: Record<string, SeriesPoint[]>;
  thresholds: Record<string, Thresholds>;
  executions: LocalRun[];
  /**
   * `notifications`: every delivery decision, as the Lambdas log it (redacted: no recipients, e-mail
   * addresses, phone numbers or acknowledgement links); `outbox`: what the simulated channels received
   * (recipient, subject, text with its links) — the inboxes of a sandbox, not a log.
   */
  files: { events: string; notifications: string; deadLetters: string; outbox: string };
  eventCounts: Record<string, number>;
  /** Idempotency keys the escalation submitted a second time (must be 0). */
  broker: { resubmitted: number };
  /** Per account and category: alerts sent and suppressed (alert fatigue), pages and acknowledgements. */
  notifications: NotificationSummary;
  /** Evaluations run, and what evaluating every account on every bar would have been. */
  work: { evaluations: number; bruteForce: number; bandCrossings: number; watched: number };
}

export interface LocalOptions {
  scenario: Scenario;
  bars: readonly PriceBar[];
  outDir: string;
  /**
   * The full sweep (the backstop behind guard bands) runs every this many bars; the watch sweep every bar.
   * @default 5
   */
  sweepEveryBars?: number;
  onTimeline?: (entry: TimelineEntry) => void;
  onBar?: (index: number, total: number, date: string) => void;
  /** How the simulated broker answers orders (rejections, part fills). @default fills everything */
  broker?: BrokerBehaviour;
  /**
   * Milliseconds to wait between bars, so people can watch the console move.
   * @default 0
   */
  paceMs?: number;
  /**
   * A DynamoDB Local that is already running (the tests' shared one): the tables are created there under
   * `tablePrefix`, and stop() leaves it running. @default starts one of its own, stopped with the system
   */
  dynamoDb?: { endpoint: string; tablePrefix: string };
}

/** The local system after start: replay bars, then keep taking ticks and API calls until stopped. */
export interface LocalSystem {
  /** The REST API's dependencies, over the same tables and local bus. */
  readonly api: ApiDeps;
  /** Replays every bar (once); resolves with the run's result. */
  replay(): Promise<LocalResult>;
  /** A price tick now (after the replay: one simulated minute after the last), through the streams. */
  tick(instrument: string, price: string): Promise<void>;
  /** After a change made through the API: fill requested orders, run the streams, refresh the summary. */
  settle(): Promise<void>;
  /** Console channel messages: bus events, margin updates and audit entries. */
  onMessage(listener: (m: ChannelMessage) => void): () => void;
  stop(): Promise<void>;
}

/**
 * The ticks of an OHLC bar before its close, at 14:30, 16:00 and 18:00 UTC: the open, then the extreme the
 * bar reaches first (the low if it closes up from its open, the high otherwise), then the other. A daily
 * bar does not say which extreme came first; this is the usual assumption, and both are visited.
 */
export function intrabarTicks(
  bar: PriceBar,
  last: ReadonlyMap<string, Decimal>,
): { at: Date; prices: Map<string, Decimal> }[] {
  if (!bar.ohlc) return [];
  const times = ['14:30', '16:00', '18:00'].map((t) => new Date(`${bar.date}T${t}:00.000Z`));
  // Closes-only instruments carry their last price through the session (no intraday information), so
  // they are as fresh as the others.
  const ticks = times.map((at) => ({
    at,
    prices: new Map(
      [...bar.closes.keys()].filter((i) => !bar.ohlc!.has(i) && last.has(i)).map((i) => [i, last.get(i)!]),
    ),
  }));
  for (const [instrument, r] of bar.ohlc) {
    const up = r.close.greaterThanOrEqualTo(r.open);
    [r.open, up ? r.low : r.high, up ? r.high : r.low].forEach((p, i) => ticks[i]!.prices.set(instrument, p));
  }
  return ticks;
}

export type NotificationSummary = Record<string, Record<string, { sent: number; suppressed: number }>>;

/** Alerts per account and category: distinct alerts sent (whatever the number of routes) and suppressed. */
export function notificationSummary(records: readonly DeliveryRecord[]): NotificationSummary {
  const summary: NotificationSummary = {};
  const counted = new Set<string>();
  for (const r of records) {
    if (
      r.page ||
      (r.status !== 'sent' && r.status !== 'suppressed' && r.status !== 'held' && r.status !== 'digest')
    )
      continue;
    const key = `${r.alertId}:${r.status === 'suppressed' ? 'suppressed' : 'sent'}`;
    if (counted.has(key)) continue;
    counted.add(key);
    const cell = ((summary[r.accountId] ??= {})[r.category] ??= { sent: 0, suppressed: 0 });
    if (r.status === 'suppressed') cell.suppressed += 1;
    else cell.sent += 1;
  }
  return summary;
}

/** The close of a daily bar, as the price time and the simulated clock. */
const closeOf = (date: string) => new Date(`${date}T21:00:00.000Z`);

function describeOrders(detail: EventDetail<'DeleverageRequested'>): string {
  return (
    detail.orders
      .map(
        (o) =>
          `${o.side} ${o.quantity} ${o.instrument} @ ~${new Decimal(o.estimatedPrice).toDecimalPlaces(2).toFixed()}`,
      )
      .join(', ') || 'no orders'
  );
}

/**
 * The whole system on one machine: DynamoDB Local with the deployed table definitions, the real stream
 * handlers fed from the real stream records, the synthesized state machine with its tasks mapped to the
 * real step handler, a broker that fills requested orders, EventBridge and SNS to JSONL files.
 */
export async function runLocal(options: LocalOptions): Promise<LocalResult> {
  const system = await startLocalSystem(options);
  try {
    return await system.replay();
  } finally {
    await system.stop();
  }
}

export async function startLocalSystem(options: LocalOptions): Promise<LocalSystem> {
  const { scenario, bars, outDir } = options;
  if (bars.length === 0) throw new Error('no price bars to replay');
  const db = options.dynamoDb
    ? { endpoint: options.dynamoDb.endpoint, stop: async () => {} }
    : await startDynamoDbLocal();
  const executions = new Map<string, LocalExecution>();
  try {
    const client = localClient(db.endpoint);
    const tables = await createTables(client, options.dynamoDb?.tablePrefix ?? 'local');
    const doc = DynamoDBDocumentClient.from(client);
    const clock = new BarClock(closeOf(bars[0]!.date));
    const timeline: TimelineEntry[] = [];
    const note = (accountId: string, kind: TimelineKind, text: string, level?: RiskLevel) => {
      const entry = {
        date: clock.now().toISOString().slice(0, 10),
        accountId,
        kind,
        text,
        ...(level ? { level } : {}),
      };
      timeline.push(entry);
      options.onTimeline?.(entry);
    };

    const files = {
      events: join(outDir, 'events.jsonl'),
      notifications: join(outDir, 'notifications.jsonl'),
      deadLetters: join(outDir, 'dead-letters.jsonl'),
      outbox: join(outDir, 'outbox.jsonl'),
    };
    const deadLetterFile = new JsonlFile(files.deadLetters);
    const deadLetter: DeadLetter = {
      send: async (reason, record, issues) => deadLetterFile.write({ reason, issues, record }),
    };
    // In process, de-duplicating coalesced messages on the bar clock as the FIFO queue does on AWS.
    const workQueue = new LocalWorkQueue(() => clock.now().getTime());
    const runs: LocalRun[] = [];

    // The EventBridge rule that starts escalations, with the real starter and a stand-in for Step Functions.
    const stepFunctions = {
      send: async (command: StartExecutionCommand) => {
        const name = command.input.name!;
        if (executions.has(name))
          throw new ExecutionAlreadyExists({ message: `execution ${name} exists`, $metadata: {} });
        clock.enter();
        const execution = startEscalationRun(JSON.parse(command.input.input!), step);
        executions.set(name, execution);
        void execution.done.then((run) => {
          runs.push(run);
          clock.leave();
        });
        return {};
      },
    };
    const escalationRule = (e: DomainEvent) => {
      if (
        e.detailType !== 'RiskLevelChanged' ||
        !['WARNING', 'CRITICAL', 'LIQUIDATION'].includes(e.detail.to)
      )
        return;
      clock.enter();
      // As the deployed starter does: an incident whose attempt failed is restarted as attempt n + 1.
      void startEscalation(e.detail, stepFunctions as never, 'local', {
        failedAttempts: (accountId, incidentId) =>
          countFailedAttempts(
            (a, i, step) => escalationDeps.actions.getStep(a, i, step),
            accountId,
            incidentId,
          ),
      }).finally(() => clock.leave());
    };
    const timelineRule = (e: DomainEvent) => {
      const d = e.detail as Record<string, unknown> & { accountId: string };
      switch (e.detailType) {
        case 'RiskLevelChanged':
          return note(
            d.accountId,
            'level',
            `${d.from ?? 'start'} → ${d.to} (ratio ${d.marginRatio === null ? '—' : new Decimal(d.marginRatio as string).toDecimalPlaces(3).toFixed()})`,
            d.to as RiskLevel,
          );
        case 'MarginCallTriggered':
          return note(
            d.accountId,
            'margin-call',
            `MARGIN CALL: shortfall ${new Decimal(d.shortfall as string).toDecimalPlaces(2).toFixed()}`,
          );
        case 'MarginCallResolved':
          return note(d.accountId, 'call-resolved', 'margin call resolved');
        case 'DeleverageRequested':
          return note(
            d.accountId,
            'deleverage',
            `deleverage requested: ${describeOrders(e.detail as EventDetail<'DeleverageRequested'>)}`,
          );
        case 'LiquidationRequested':
          return note(
            d.accountId,
            'liquidation',
            `LIQUIDATION requested: ${describeOrders(e.detail as EventDetail<'DeleverageRequested'>)}`,
          );
        case 'RiskDataProblem':
          return note(d.accountId, 'data', `data: ${d.kind} ${(d.instruments as string[]).join(', ')}`);
      }
    };
    const consoleRule = (e: DomainEvent) => emit(eventMessages(e));
    const bus = new LocalBus(new JsonlFile(files.events), [timelineRule, escalationRule, consoleRule], () =>
      clock.now(),
    );
    // Every delivery decision (sent, held, suppressed, and the SNS topics) is a line of notifications.jsonl.
    const notificationsFile = new JsonlFile(files.notifications);
    const notifier = new LocalNotifier(notificationsFile, () => {});
    const deliveries: DeliveryRecord[] = [];

    const repo = new RiskRepository(client, tables);
    const telemetry = new Tally();
    const config = pipelineConfigSchema.parse({
      staleAfterMs: 36 * 3_600_000,
      heartbeatMs: 3_600_000,
      closedHeartbeatMs: 3_600_000, // a replay of daily bars: the heartbeat as before, open or closed
    });
    const handlerDeps: HandlerDeps = {
      store: repo,
      repo,
      bands: new BandRepository(client, tables.bands, 4),
      publisher: bus,
      deadLetter,
      workQueue,
      config,
      telemetry,
      env: { sweepSegments: 2, inlineFanoutLimit: 10_000 },
      log: {
        info: () => {},
        warn: () => {},
        error: (msg, ...extra) => deadLetterFile.write({ reason: 'handler-error', msg, extra }),
      },
      concurrency: 4,
      now: () => clock.now(),
    };
    const ackSecret = randomBytes(32).toString('hex');
    const escalationDeps: EscalationDeps = {
      ...handlerDeps,
      actions: new ActionsRepository(client, tables.actions, () => clock.now()),
      settings: new SettingsRepository(client, tables.settings),
      notifier,
    };
    const settingsRepo = escalationDeps.settings;
    // The simulated channels: each message lands in the outbox, as it would in the recipient's inbox.
    const outboxFile = new JsonlFile(files.outbox);
    const recorder: ChannelSender = {
      send: async (d) =>
        outboxFile.write({
          at: clock.now().toISOString(),
          alertId: d.alertId,
          route: d.route,
          channel: d.channel,
          to: d.to,
          subject: d.subject,
          text: d.text,
        }),
    };
    const pagingRuns = new Map<string, LocalExecution>();
    const alertsNoted = new Set<string>();
    const dispatcher: Dispatcher = new Dispatcher({
      policy: () => readPolicy(settingsRepo, {}),
      store: new NotifyStore(client, tables.actions),
      senders: { telegram: recorder, email: recorder, sms: recorder, webhook: recorder, websocket: recorder },
      deadLetter,
      // One paging run per page, on the synthesized workflow; its Wait means "until the next bar".
      paging: {
        start: async (pageId) => {
          clock.enter();
          const run = startRun(pagingDefinition(), { pageId }, async (payload) => {
            if ((payload as { action?: string }).action === 'escalate') await clock.nextBar();
            return runPagingStep(payload, dispatcher);
          });
          pagingRuns.set(pageId, run);
          void run.done.then(() => clock.leave());
        },
      },
      audit: (entry) => escalationDeps.actions.audit(entry),
      topics: notifier,
      log: (record) => {
        deliveries.push(record);
        notificationsFile.write(record);
        if (record.status === 'sent' && record.page)
          note(record.accountId, 'page', `paged ${record.page.tier} (${record.channel} ${record.route})`);
        else if (record.status === 'sent' && !record.page && !alertsNoted.has(record.alertId)) {
          alertsNoted.add(record.alertId);
          note(record.accountId, 'alert', `${record.category} alert sent (${record.severity})`);
        } else if (record.status === 'suppressed')
          note(record.accountId, 'alert', `${record.category} suppressed: ${record.reason}`);
      },
      ack: { secret: async () => ackSecret, baseUrl: 'http://127.0.0.1:8080/api/ack' },
      now: () => clock.now(),
      retry: { attempts: 1 },
    });
    escalationDeps.alerts = dispatcher;
    // Orders are tracked from the first one (the seed's evaluations can already escalate).
    const orders = new OrdersRepository(client, tables.actions);
    escalationDeps.orders = orders;
    // A re-check waits for the next bar: that is what the state machine's Wait means in a replay.
    async function step(payload: unknown) {
      if ((payload as { action?: string }).action === 'check') await clock.nextBar();
      return runStep(payload, escalationDeps);
    }

    const positionHandler = makePositionStreamHandler(() => handlerDeps);
    const priceHandler = makePriceStreamHandler(() => handlerDeps);
    const tails = [tables.positions, tables.accounts, tables.prices].map((t) =>
      StreamTail.forEndpoint(client, db.endpoint, t),
    );
    const pump = async () => {
      for (;;) {
        const [positions, accounts, prices] = await Promise.all(tails.map((t) => t.poll()));
        if (positions!.length + accounts!.length + prices!.length === 0) return;
        if (positions!.length) await positionHandler({ Records: positions! });
        if (accounts!.length) await positionHandler({ Records: accounts! });
        if (prices!.length) await priceHandler({ Records: prices! });
      }
    };
    // The console's channels: the bus's events, and the risk-state and actions streams (as on AWS).
    const listeners = new Set<(m: ChannelMessage) => void>();
    const emit = (messages: readonly ChannelMessage[]) =>
      messages.forEach((m) => listeners.forEach((l) => l(m)));
    const consoleTails = { riskState: tables.riskState, actions: tables.actions };
    const consoleTail = Object.entries(consoleTails).map(
      ([table, name]) =>
        [table as ChangedItem['table'], StreamTail.forEndpoint(client, db.endpoint, name)] as const,
    );
    const pumpConsole = async () => {
      const changes: ChangedItem[] = [];
      for (const [table, tail] of consoleTail)
        changes.push(...(await tail.poll()).map((r) => changedItem(table, r)));
      for (const c of changes) {
        const entry = c.newImage as {
          accountId?: string;
          action?: string;
          actor?: string;
          details?: { tier?: string };
        } | null;
        if (c.table !== 'actions' || c.oldImage || !entry?.action) continue;
        if (entry.action === 'page-acknowledged')
          note(entry.accountId!, 'ack', `page acknowledged by ${entry.actor}`);
        else if (entry.action === 'page-escalated')
          note(entry.accountId!, 'page', `unacknowledged: escalated to ${entry.details?.tier}`);
        else if (entry.action === 'page-exhausted')
          note(entry.accountId!, 'page', 'no one acknowledged: ladder exhausted');
      }
      if (listeners.size > 0) emit(await messagesForChanges(changes, deadLetter));
      // Predictive alerts from written evaluations, as the notifications Lambda does from the stream.
      await alertApproaching(changes, {
        policy: () => dispatcher.policy(),
        getAccount: (id) => repo.getAccount(id),
        dispatch: (alert) => dispatcher.dispatch(alert),
      });
    };
    const writePrices = async (bar: PriceBar) => {
      for (const [instrument, price] of bar.closes)
        await repo.putPriceIfNewer({
          instrument,
          price: price.toFixed(),
          priceTime: closeOf(bar.date).toISOString(),
          source: 'replay',
        });
    };

    // Seed: the first bar's prices, then the books (so the first evaluation has its prices).
    await writePrices(bars[0]!);
    const thresholds: Record<string, Thresholds> = {};
    for (const { account, positions } of scenario.accounts) {
      const { id, ...rest } = account as { id: string };
      await doc.send(new PutCommand({ TableName: tables.accounts, Item: { accountId: id, ...rest } }));
      for (const p of positions)
        await doc.send(new PutCommand({ TableName: tables.positions, Item: { accountId: id, ...p } }));
      thresholds[id] =
        rest && (rest as { thresholds?: unknown }).thresholds
          ? thresholdsSchema.parse((rest as { thresholds: unknown }).thresholds)
          : DEFAULT_THRESHOLDS;
    }
    if (scenario.settings?.escalation)
      await escalationDeps.settings.put('escalation', scenario.settings.escalation);
    if (scenario.settings?.alerts) await escalationDeps.settings.put('alerts', scenario.settings.alerts);
    if (scenario.settings?.notifications)
      await escalationDeps.settings.put(POLICY_SETTING, scenario.settings.notifications);
    await pump();
    await clock.settle();

    const broker = new BrokerSimulator(client, tables, options.broker, () => clock.now());
    const brokerFile = new JsonlFile(join(outDir, 'broker-events.jsonl'));
    const feedbackDeps: FeedbackDeps = {
      orders,
      audit: (entry) => escalationDeps.actions.audit(entry),
      deadLetter,
      alerts: dispatcher,
      now: () => clock.now(),
      bankruptcy: { orders, repo, fund: new InsuranceFundLedger(client, tables), publisher: bus },
    };
    const sweep = makeSweepHandler(() => handlerDeps);
    // A bar is a day here: the watch sweep looks back two of them for prices that just went stale.
    const watch = makeWatchHandler(() => handlerDeps, 2 * 86_400_000);
    const sweepEvery = options.sweepEveryBars ?? 5;
    let watched = 0;
    // The chart shows each account marked to this bar's prices, whether or not a band was crossed.
    const markToMarket = async (accountId: string) => {
      const account = await repo.getAccount(accountId);
      const positions = await repo.getPositions(accountId);
      const held = heldPositions(positions as PositionItem[]);
      const prices = await repo.getPrices(held.map((p) => p.instrument));
      if (!account || held.some((p) => !prices.has(p.instrument))) return null;
      return evaluate(
        toEngineInput(account as AccountItem, held as PositionItem[], prices as Map<string, PriceItem>),
        {
          positionPrices: false,
          asOf: clock.now().toISOString().slice(0, 10),
        },
      );
    };
    const worker = makeWorkQueueHandler(() => handlerDeps);
    const series: Record<string, SeriesPoint[]> = Object.fromEntries(
      scenario.accounts.map((a) => [(a.account as { id: string }).id, []]),
    );
    const summaryDeps = {
      overview: new OverviewRepository(client, tables),
      settings: escalationDeps.settings,
      now: () => clock.now(),
    };
    let filledUpTo = 0;
    // The broker fills what was requested, at the current prices; fills re-evaluate through the streams.
    const fillRequested = async () => {
      while (filledUpTo < bus.published.length) {
        const e = bus.published[filledUpTo++]!;
        if (e.detailType !== 'DeleverageRequested' && e.detailType !== 'LiquidationRequested') continue;
        const { events: answers, fills } = await broker.respond(
          e.detail as EventDetail<'DeleverageRequested'>,
        );
        // The broker's answers reach the feedback handler as the EventBridge rule delivers them on AWS.
        for (const answer of answers) {
          brokerFile.write({
            source: BROKER_EVENT_SOURCE,
            'detail-type': answer.detailType,
            time: clock.now().toISOString(),
            detail: answer.detail,
          });
          await handleBrokerFeedback(
            { 'detail-type': answer.detailType, detail: answer.detail },
            feedbackDeps,
          );
          if (answer.detailType === 'OrderRejected')
            note(
              e.detail.accountId,
              'fill',
              `broker REJECTED ${answer.detail.idempotencyKey.slice(0, 8)}…: ${answer.detail.reason}`,
            );
        }
        if (fills > 0) note(e.detail.accountId, 'fill', `broker filled ${fills} order(s)`);
        await pump();
        await clock.settle();
      }
    };
    const afterChange = async () => {
      await pump();
      clock.release(); // re-checks parked since the last bar (or tick) run now, on the current prices
      await clock.settle();
      await fillRequested();
      await refreshSummary(summaryDeps);
      await pumpConsole();
    };
    let replayed: Promise<LocalResult> | undefined;
    const lastCloses = new Map<string, Decimal>(bars[0]!.closes);
    const replay = async (): Promise<LocalResult> => {
      for (const [i, bar] of bars.entries()) {
        if (i > 0 && options.paceMs) await new Promise((r) => setTimeout(r, options.paceMs));
        // OHLC bars: the session's path as ticks before the close (open, then the extreme the close turns
        // away from, then the other), through the same streams and guard bands as any tick.
        for (const tick of intrabarTicks(bar, lastCloses)) {
          clock.set(tick.at);
          for (const [instrument, price] of tick.prices)
            await repo.putPriceIfNewer({
              instrument,
              price: price.toFixed(),
              priceTime: tick.at.toISOString(),
              source: 'replay-intrabar',
            });
          await pump();
          // Hours pass between intrabar ticks: the escalation's and the ladder's waits (minutes) are over.
          clock.release();
          await clock.settle();
          await fillRequested();
        }
        clock.set(closeOf(bar.date));
        await writePrices(bar);
        for (const [k, v] of bar.closes) lastCloses.set(k, v);
        await pump();
        clock.release();
        await clock.settle();
        await fillRequested();
        // The scheduled sweeps through the work queue: watch every bar, the full backstop every few.
        watched += (await watch({ id: `watch-${bar.date}`, time: clock.now().toISOString() })).watched;
        if (i % sweepEvery === sweepEvery - 1)
          await sweep({ id: `sweep-${bar.date}`, time: clock.now().toISOString() });
        await worker({
          Records: workQueue
            .drain()
            .map((m, k) => ({ messageId: `${bar.date}-${k}`, body: JSON.stringify(m) })),
        } as never);
        await clock.settle();
        await dispatcher.flushHeld();
        if (listeners.size > 0) await refreshSummary(summaryDeps);
        await pumpConsole();
        for (const id of Object.keys(series)) {
          const state = await repo.getRiskState(id);
          const marked = await markToMarket(id);
          series[id]!.push({
            date: bar.date,
            ratio: marked ? toEdgeOrNull(marked.marginRatio) : (state?.marginRatio ?? null),
            level: state?.level ?? null,
            equity: marked ? toEdge(marked.equity) : (state?.equity ?? null),
          });
        }
        options.onBar?.(i + 1, bars.length, bar.date);
      }
      // The run's result is final: escalations still waiting for a bar are stopped.
      for (const execution of executions.values()) execution.abort();
      await Promise.all([...executions.values()].map((e) => e.done));
      await refreshSummary(summaryDeps);
      await pumpConsole();
      const eventCounts: Record<string, number> = {};
      for (const e of bus.published) eventCounts[e.detailType] = (eventCounts[e.detailType] ?? 0) + 1;
      const work = {
        evaluations: telemetry.counts.get('Evaluations') ?? 0,
        // Every account on every price update: the seed, each bar's close, and its intrabar ticks.
        bruteForce:
          Object.keys(series).length *
          (1 + bars.reduce((n, bar) => n + 1 + intrabarTicks(bar, new Map()).length, 0)),
        bandCrossings: telemetry.counts.get('BandCrossings') ?? 0,
        watched,
      };
      return {
        broker: { resubmitted: broker.resubmitted },
        timeline,
        series,
        thresholds,
        executions: runs,
        files,
        eventCounts,
        work,
        notifications: notificationSummary(deliveries),
      };
    };
    // One thing at a time: a tick or an API change waits for the replay step (or tick) before it.
    let queue: Promise<unknown> = Promise.resolve();
    const serial = <T>(work: () => Promise<T>): Promise<T> => {
      const run = queue.then(work, work);
      queue = run.catch(() => {});
      return run;
    };
    let minute = 0;
    const api = apiDeps(
      client,
      tables,
      { repo, bands: handlerDeps.bands, publisher: bus, stage: 'local' },
      () => clock.now(),
      { ackSecret: async () => ackSecret, policyFallback: {} },
    );
    api.notify = (alert) => dispatcher.dispatch(alert);
    return {
      api,
      replay: () => (replayed ??= serial(replay)),
      tick: (instrument, price) =>
        serial(async () => {
          minute += 1;
          const at = new Date(closeOf(bars[bars.length - 1]!.date).getTime() + minute * 60_000);
          if (at > clock.now()) clock.set(at);
          await repo.putPriceIfNewer({
            instrument,
            price,
            priceTime: clock.now().toISOString(),
            source: 'tick',
          });
          await afterChange();
        }),
      settle: () => serial(afterChange),
      onMessage(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      async stop() {
        for (const execution of [...executions.values(), ...pagingRuns.values()]) execution.abort();
        await db.stop();
      },
    };
  } catch (e) {
    for (const execution of executions.values()) execution.abort();
    await db.stop();
    throw e;
  }
}
