/**
 * `npm run cost [-- --json]`: a month of Margin Guard on AWS (us-east-1, on-demand, arm64 Lambda) for 10k,
 * 100k and 1M accounts, line by line, with what dominates and the levers that would move it.
 *
 * Three kinds of input, kept apart so each can be checked on its own (docs/cost.md explains every one):
 * - PRICES: AWS list prices, each with the page it was read from (check them before relying on a figure);
 * - MEASURED: what the real handlers ask of AWS per operation — read and write units per table, band
 *   items per rewrite, events, work messages, item sizes — metered by bench/cost-inputs.ts (counts, not
 *   times) and the evaluator's CPU per evaluation from bench/evaluator-cpu.json (npm run bench);
 * - WORKLOAD and DESIGN: the assumptions (ticks, trading hours, unbanded and at-risk accounts, incidents,
 *   trades, log bytes) and the deployment's settings (memory, shards, batch sizes, latencies).
 * Free tiers are left out (they are small against a 1M-account bill).
 */
import costInputs from '../bench/cost-inputs.json' with { type: 'json' };
import { MODEL_MIX } from '../bench/population.ts';
import { ACCOUNTS_PER_MESSAGE } from '../functions/lib/queues.ts';
import { escalationConfigSchema } from '../shared/escalation/settings.ts';
import { DEFAULT_PIPELINE_CONFIG } from '../shared/pipeline/config.ts';
import evaluatorCpu from '../bench/evaluator-cpu.json' with { type: 'json' };

export interface Price {
  usd: number;
  /** What one `usd` buys. */
  per: string;
  /** Where it was read (us-east-1). */
  source: string;
}

const DDB_ON_DEMAND =
  'aws.amazon.com/dynamodb/pricing/on-demand (us-east-1; on-demand throughput halved on 1 Nov 2024), cross-checked with airbyte.com/data-engineering-resources/dynamodb-pricing (Jul 2025)';

export const PRICES = {
  ddbWriteUnit: { usd: 0.625 / 1e6, per: 'write request unit', source: DDB_ON_DEMAND },
  ddbReadUnit: { usd: 0.125 / 1e6, per: 'read request unit', source: DDB_ON_DEMAND },
  ddbStorageGbMonth: {
    usd: 0.25,
    per: 'GB-month (Standard table class; first 25 GB free)',
    source: 'aws.amazon.com/dynamodb/pricing ("Data Storage ... $0.25 per GB-month thereafter")',
  },
  ddbPitrGbMonth: {
    usd: 0.2,
    per: 'GB-month of table size (data and LSIs)',
    source:
      'aws.amazon.com/dynamodb/pricing/on-demand (continuous backups), as quoted by finops.com.py/services/dynamodb/backups; size rule: DynamoDB Developer Guide, PointInTimeRecovery_Howitworks',
  },
  ddbStreamReadForLambda: {
    usd: 0,
    per: 'GetRecords by a Lambda trigger',
    source: 'aws.amazon.com/dynamodb/pricing/on-demand (streams read by AWS Lambda triggers are free)',
  },
  lambdaGbSecondArm: {
    usd: 0.0000133334,
    per: 'GB-second, arm64 (first 7.5B GB-s a month)',
    source: 'aws.amazon.com/lambda/pricing, as tabled by cloudchipr.com/blog/aws-lambda-pricing',
  },
  lambdaRequest: { usd: 0.2 / 1e6, per: 'request', source: 'aws.amazon.com/lambda/pricing' },
  sqsStandardRequest: {
    usd: 0.4 / 1e6,
    per: 'request (per 64 KB chunk; first 100B a month)',
    source: 'aws.amazon.com/sqs/pricing, as tabled by cloudburn.io/blog/amazon-sqs-pricing (Mar 2026)',
  },
  sqsFifoRequest: {
    usd: 0.5 / 1e6,
    per: 'FIFO request (send, receive, delete, change visibility)',
    source: 'aws.amazon.com/sqs/pricing, as tabled by cloudburn.io/blog/amazon-sqs-pricing (Mar 2026)',
  },
  eventBridgeEvent: {
    usd: 1 / 1e6,
    per: 'custom event published (per 64 KB chunk)',
    source: 'aws.amazon.com/eventbridge/pricing, as tabled by cloudburn.io/blog/amazon-eventbridge-pricing',
  },
  eventBridgeArchiveGb: {
    usd: 0.1,
    per: 'GB archived (processing)',
    source: 'cloudburn.io/blog/amazon-eventbridge-pricing (archive: $0.10/GB processed, $0.023/GB-month)',
  },
  stepFunctionsTransition: {
    usd: 0.025 / 1000,
    per: 'state transition, Standard workflow (retries included)',
    source: 'aws.amazon.com/step-functions/pricing (US East (N. Virginia): $0.0250 per 1,000)',
  },
  stepFunctionsExpressRequest: {
    usd: 1 / 1e6,
    per: 'Express workflow request (an execution started; at most 5 minutes long)',
    source:
      'aws.amazon.com/step-functions/pricing (Express: $1.00 per 1M requests), tabled by wring.co (Mar 2026)',
  },
  stepFunctionsExpressGbSecond: {
    usd: 0.00001667,
    per: 'Express workflow GB-second (billed in 64 MB and 100 ms steps; first 1,000 h)',
    source: 'aws.amazon.com/step-functions/pricing (Express duration), tabled by wring.co (Mar 2026)',
  },
  schedulerInvocation: {
    usd: 1 / 1e6,
    per: 'EventBridge Scheduler invocation (what would start a polling Express execution)',
    source: 'aws.amazon.com/eventbridge/pricing (Scheduler: $1.00 per million invocations)',
  },
  logsIngestGb: {
    usd: 0.5,
    per: 'GB ingested, Standard log class (Lambda logs: first 10 TB tier)',
    source:
      'aws.amazon.com/cloudwatch/pricing, as quoted by duckbillgroup.com (Lambda log tiers, May 2025) and hykell.com',
  },
  logsStorageGbMonth: {
    usd: 0.03,
    per: 'GB-month archived',
    source: 'aws.amazon.com/cloudwatch/pricing, as quoted by hykell.com/kb (us-east-1)',
  },
  cloudWatchMetricMonth: {
    usd: 0.3,
    per: 'custom metric-month (first 10,000; EMF metrics count)',
    source: 'aws.amazon.com/cloudwatch/pricing, as quoted by hivebook.wiki (CloudWatch Logs cost)',
  },
  cloudWatchAlarmMonth: {
    usd: 0.1,
    per: 'standard-resolution alarm-month',
    source: 'aws.amazon.com/cloudwatch/pricing',
  },
  cloudWatchDashboardMonth: {
    usd: 3,
    per: 'dashboard-month',
    source: 'aws.amazon.com/cloudwatch/pricing, as quoted by factualminds.com (CloudWatch pricing, Jun 2026)',
  },
  kmsKeyMonth: {
    usd: 1,
    per: 'customer managed key-month (+$1 per rotated backing key)',
    source: 'aws.amazon.com/kms/pricing ("Each AWS KMS key that you create in KMS costs $1/month")',
  },
  kmsRequest: {
    usd: 0.03 / 10_000,
    per: 'symmetric request',
    source: 'aws.amazon.com/kms/pricing, as tabled by wring.co/blog/aws-kms-pricing-guide',
  },
  snsPublish: {
    usd: 0.5 / 1e6,
    per: 'publish (standard topic)',
    source: 'aws.amazon.com/sns/pricing, as quoted by factualminds.com (SNS pricing, Jun 2026)',
  },
  sesEmail: {
    usd: 0.1 / 1000,
    per: 'email sent',
    source: 'aws.amazon.com/ses/pricing, as quoted by acecloudinterviews.com/tutorials/aws/ses',
  },
  apiGatewayRestRequest: {
    usd: 3.5 / 1e6,
    per: 'REST API request (first 333M)',
    source: 'aws.amazon.com/api-gateway/pricing, as tabled by amnic.com/blogs/aws-api-gateway-pricing',
  },
  webSocketMessage: {
    usd: 1 / 1e6,
    per: 'WebSocket message (32 KB)',
    source: 'aws.amazon.com/api-gateway/pricing, as tabled by amnic.com/blogs/aws-api-gateway-pricing',
  },
  webSocketConnectionMinute: {
    usd: 0.25 / 1e6,
    per: 'WebSocket connection-minute',
    source: 'aws.amazon.com/api-gateway/pricing, as tabled by amnic.com/blogs/aws-api-gateway-pricing',
  },
} satisfies Record<string, Price>;

/** The escalation settings' defaults (GET /config with nothing stored): the waits' periods. */
const ESCALATION_DEFAULTS = escalationConfigSchema.parse({});

/** The workload: every assumption, named (docs/cost.md says why each value). */
export const WORKLOAD = {
  /** US equities' regular session, 6.5 h × 21 trading days. */
  tradingHoursPerMonth: 6.5 * 21,
  tradingDaysPerMonth: 21,
  /** Instruments ticking in trading hours, with the broker's size (the first model's scaling). */
  tickingInstruments: (accounts: number) => Math.min(2_000, Math.max(200, accounts / 500)),
  /** Of those, the share that ticks around the clock (crypto perpetuals of the tiered accounts). */
  alwaysOpenShare: 0.05,
  /** Prices written per instrument per second while it trades (the feed conflated to one a second). */
  priceWritesPerInstrumentSecond: 1,
  /** Conflated ticks (stream batches touching the instrument) per instrument per second. */
  tickBatchesPerInstrumentSecond: 1,
  sweepMinutes: 15,
  watchMinutes: 1,
  /** The heartbeat while every market an account holds is closed (closedHeartbeatMs, shared/pipeline/config.ts). */
  closedHeartbeatMinutes: DEFAULT_PIPELINE_CONFIG.closedHeartbeatMs / 60_000,
  /** Accounts holding an instrument that trades around the clock (the tiered accounts' crypto perpetuals,
   * the bench population's mix): their heartbeat stays every heartbeatMinutes while equities are closed. */
  alwaysOpenAccountShare: MODEL_MIX.tiered,
  /** Accounts with a data problem or no room at any moment (missing or stale prices, invalid data, no room). */
  unbandedShare: 0.005,
  /**
   * What they are, and so what finds them (shared/pipeline/assess.ts):
   * - stale prices among fresh ones: banded on the fresh ones, pinned on the stale (a tick of a stale
   *   instrument, rare by definition, finds it): as cheap as a banded account, not watched;
   * - missing prices: an always row on the missing instruments only (no other tick can change anything)
   *   and the minute watch;
   * - every tick: invalid data and no room, an always row on every held instrument (coalesced once a
   *   second) and the minute watch.
   * Assumption: stale prices dominate (one illiquid instrument of ~20 that has not ticked for staleAfter
   * makes an account stale); invalid data is dead-lettered and fixed, a ratio exactly on a threshold rare.
   */
  unbandedMix: { stalePrices: 0.8, missingPrices: 0.1, everyTick: 0.1 },
  /** Coalesced evaluations per unbanded account per second while its instruments tick (FIFO de-dup). */
  coalescedEvaluationsPerSecond: 1,
  /** Band crossings per account per trading day: measured under bench/cost-inputs.ts's random walk (every
   * instrument ±0.77% each 15 minutes, about 2.3% a day: more than a typical day) over 6.5 hours. */
  crossingsPerAccountTradingDay: costInputs.walkCrossingsPerAccountHour * 6.5,
  /** Fills per account per month (each changes a position and the cash: two evaluations). */
  tradesPerAccountMonth: 10,
  /** Incidents (RiskLevelChanged to WARNING or worse) per account per month. */
  incidentsPerAccountMonth: 0.1,
  /** Accounts in an open escalation at any moment (waiting for a level change, re-checked at the backstop). */
  atRiskShare: 0.01,
  /**
   * The longest an open escalation waits without a level change before it re-checks (the /config
   * wakeBackstopSeconds default: the waits are callback tasks that the account's next RiskLevelChanged ends).
   */
  recheckSeconds: ESCALATION_DEFAULTS.wakeBackstopSeconds,
  /** The re-check period while an incident's orders are working (the /config waitSeconds default). */
  workingRecheckSeconds: ESCALATION_DEFAULTS.waitSeconds,
  /** How long orders may work before they page on-call (fillTimeoutSeconds): the working re-checks' bound. */
  ordersWorkingSeconds: ESCALATION_DEFAULTS.fillTimeoutSeconds,
  /** Level changes of an account per incident (in, on the way, out): the first starts the escalation,
   * each later one wakes its wait (and every one invokes the waker). */
  levelChangesPerIncident: 2.5,
  /** Wait (callback task) → Re-check task → Choice: the loop of the escalation state machine
   * (infra/constructs/escalation.ts; test/integration/workflow-errors.state-machine.test.ts counts it). */
  transitionsPerRecheck: 3,
  /** Alert, its Choice, Resolve and notify, Resolved. */
  transitionsPerIncident: 4,
  /** Level-change events to WARNING or worse per incident (WARNING → CRITICAL → …), each a start message. */
  startMessagesPerIncident: 1.5,
  /** Events per incident: RiskLevelChanged in and out (and on the way), margin call triggered and
   * resolved, order events (DeleverageRequested, LiquidationRequested). */
  eventsPerIncident: 4,
  /** Lambda log bytes per invocation: platform start/report lines (JSON) and the EMF metrics flush. */
  logBytesPerInvocation: 1_500,
  /** Step Functions log bytes per transition (LogLevel.ALL, no execution data). */
  logBytesPerTransition: 350,
  logRetentionDays: 30,
  historyTtlDays: 90,
  /** Audit-trail and step items an incident writes (Actions table), their size, how long they are kept. */
  actionItemsPerIncident: 5,
  actionItemBytes: 400,
  actionRetentionDays: 365,
  /** People notified per incident through the policy (digests and storm mode fold most). */
  snsPublishesPerIncident: 2,
  emailsPerIncident: 1,
  /** Operator console: people online around the clock, accounts each has on screen, API calls a month. */
  consoleConnections: 20,
  accountsOnScreen: 200,
  consoleApiRequestsPerMonth: 600_000,
  summaryMinutes: 5,
  /** An overview-index row (level, ratio, equity, maintenance, distances, incident), KB. */
  overviewRowKb: 0.4,
  /** CloudWatch: custom metrics (MarginGuard namespace), alarms, dashboards. */
  customMetrics: 40,
  alarms: 40,
  dashboards: 1,
};

/** The deployment (infra/, functions/) and the service behaviour the model relies on. */
export const DESIGN = {
  /** The state heartbeat (heartbeatMs, shared/pipeline/config.ts), the period the measurements were taken at. */
  heartbeatMinutes: DEFAULT_PIPELINE_CONFIG.heartbeatMs / 60_000,
  lambdaMemoryGb: 1,
  /** 1,769 MB buys one vCPU (Lambda Developer Guide, "Configure Lambda function memory"). */
  mbPerVcpu: 1_769,
  /** A Lambda vCPU's speed against one core of the machine that ran npm run bench (assumed equal). */
  lambdaCoreSpeed: 1,
  /** Sub-keys per price bucket (infra/config.ts bandShards, default 8): a tick queries each bucket it
   * crossed on every sub-key, plus the unbanded partition (striped over bandTables tables: the same queries). */
  bandShards: 8,
  /** Write units per band-index item: 1 since band writes left the transaction (cf64bd0); 2 inside one. */
  wruPerBandItem: 1,
  /** Price-stream lanes: 4 stream shards × parallelization factor 4 (infra/constructs/evaluation.ts). */
  priceStreamLanes: 16,
  priceStreamBatch: 100,
  /** The price stream queries 8 instruments at once, each tick's queries 16 at once (bands-repository.ts). */
  instrumentsInParallel: 8,
  queriesInParallel: 16,
  /** A DynamoDB request's latency, for wall-time (billed) duration (as bench/capacity/limits.ts). */
  dynamoLatencyMs: 6,
  /** Sequential DynamoDB round trips of an evaluation: its reads (account, positions, state and summary at
   * once; then prices), a state write (transaction, outbox publish, clear) and a band write (puts, summary,
   * deletes, the re-check read) (evaluate-account.ts); a re-check step's own reads after it (steps.ts). */
  readRoundTrips: 2,
  stateWriteRoundTrips: 3,
  bandWriteRoundTrips: 4,
  recheckStepRoundTrips: 2,
  /** Escalation waits are callback tasks with a wait step and a waker (false: the Wait-state poll before). */
  callbackWaits: true,
  /** The wait step: settings, then the token's put, then the state and the hold (steps.ts wait). */
  waitStepRoundTrips: 3,
  /** The waker: the waiter's read, SendTaskSuccess, the delete (escalation-waits.ts wakeEscalation). */
  wakerRoundTrips: 3,
  /** Evaluations in flight per invocation (runtime.ts concurrency). */
  evaluationsInFlight: 16,
  /** Accounts per work message (queues.ts) and the coalescing queue's event-source batch (evaluation.ts). */
  accountsPerMessage: ACCOUNTS_PER_MESSAGE,
  coalescedBatch: 10,
  /** Empty long polls of an event source's five pollers (20 s each), per queue per month. */
  idleReceivesPerQueueMonth: 5 * 3 * 60 * 24 * 30,
  queuesWithPollers: 3,
  /** DynamoDB refreshes its table key from KMS every 5 minutes per client connection with traffic
   * (DynamoDB Developer Guide, "Encryption at rest: How it works"); connections ≈ 100 warm environments ×
   * 15 tables (the band index striped over 8). */
  kmsConnections: 1_500,
  kmsKeys: 2,
  /** KMS-encrypted queues (work, its dead letters, the pipeline's dead letters, the coalescing queue) and
   * the principals (roles) that send to or receive from each. */
  kmsSqsQueues: 4,
  kmsSqsPrincipals: 5,
  /** RiskState stream records per broadcaster invocation (batch 100, 1 s window). */
  broadcasterBatch: 100,
};

type Op = keyof typeof costInputs.operations;
const OPS = costInputs.operations;
const SIZES = costInputs.sizes;
/** Measured: bench/cost-inputs.json (npx tsx bench/cost-inputs.ts) and bench/evaluator-cpu.json (npm run bench). */
export const MEASURED = {
  operations: OPS,
  sizes: SIZES,
  bandShards: costInputs.measured.bandShards,
  cpuMsPerEvaluation: evaluatorCpu.cpuMsPerEvaluation,
  priceStreamCpuMsPerRecord: costInputs.timings.priceStreamCpuMsPerRecord,
  sources: {
    operations: `${costInputs.command} → bench/cost-inputs.json (${costInputs.measured.accounts} accounts)`,
    cpu: `${evaluatorCpu.command} → bench/evaluator-cpu.json (${evaluatorCpu.measured.tree}, node ${evaluatorCpu.measured.node})`,
  },
};

const MONTH_SECONDS = 30 * 86_400;
const MONTH_MINUTES = MONTH_SECONDS / 60;
const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
const ru = (op: Op) => sum(OPS[op].readUnits);
/** Read units of an evaluation the price stream found: its band queries are the tick's, priced there. */
const evaluationReads = (op: Op) => ru(op) - OPS[op].bandQueryReadUnits;
/** State, history and outbox writes of an operation (the overview indexes are the console's). */
const stateWru = (op: Op) =>
  sum(
    Object.fromEntries(
      Object.entries(OPS[op].writeUnits).filter(([k]) => k === 'RiskState' || k === 'RiskHistory'),
    ),
  );
const overviewWru = (op: Op) =>
  sum(Object.fromEntries(Object.entries(OPS[op].writeUnits).filter(([k]) => k.startsWith('RiskState/'))));

export type Inputs = { workload: typeof WORKLOAD; design: typeof DESIGN };
export const DEFAULT_INPUTS: Inputs = { workload: WORKLOAD, design: DESIGN };

export function monthlyCost(accounts: number, inputs: Inputs = DEFAULT_INPUTS) {
  const w = inputs.workload;
  const d = inputs.design;
  const p = PRICES;
  const tradingSeconds = w.tradingHoursPerMonth * 3600;
  const tradingShare = w.tradingHoursPerMonth / (MONTH_SECONDS / 3600);
  const vcpu = (d.lambdaMemoryGb * 1024) / d.mbPerVcpu;
  const cpuS = (ms: number) => ms / 1000 / vcpu / d.lambdaCoreSpeed; // billed seconds of CPU-bound work

  // --- volumes ---------------------------------------------------------------------------------------
  const sweeps = (accounts * MONTH_MINUTES) / w.sweepMinutes;
  const sweepMoving = sweeps * tradingShare;
  const sweepClosed = sweeps - sweepMoving;
  // Watched: the unbanded accounts but the stale ones; found by every tick: invalid data and no room.
  const watched = accounts * w.unbandedShare * (w.unbandedMix.missingPrices + w.unbandedMix.everyTick);
  const unbanded = accounts * w.unbandedShare * w.unbandedMix.everyTick;
  const watch = (watched * MONTH_MINUTES) / w.watchMinutes;
  const coalesced = unbanded * tradingSeconds * w.coalescedEvaluationsPerSecond;
  const crossings = accounts * w.crossingsPerAccountTradingDay * w.tradingDaysPerMonth;
  const trades = accounts * w.tradesPerAccountMonth;
  const incidents = accounts * w.incidentsPerAccountMonth;
  const openIncidents = accounts * w.atRiskShare;
  // Re-checks: each open escalation's backstop, each later level change's wake-up, and the working
  // re-checks after a deleverage (bounded by the fill timeout; counted as if every incident deleveraged).
  const backstops = (openIncidents * MONTH_SECONDS) / w.recheckSeconds;
  const wakes = d.callbackWaits ? incidents * (w.levelChangesPerIncident - 1) : 0;
  const workingRechecks = d.callbackWaits
    ? incidents * Math.ceil(w.ordersWorkingSeconds / w.workingRecheckSeconds)
    : 0;
  const rechecks = backstops + wakes + workingRechecks;
  // Every RiskLevelChanged invokes the waker (a strongly consistent read of the waiter, its delete).
  const wakerInvocations = d.callbackWaits ? incidents * w.levelChangesPerIncident : 0;
  const waitSteps = d.callbackWaits ? rechecks : 0;
  const instruments = w.tickingInstruments(accounts);
  const instrumentSeconds =
    instruments * (1 - w.alwaysOpenShare) * tradingSeconds + instruments * w.alwaysOpenShare * MONTH_SECONDS;
  const priceWrites = instrumentSeconds * w.priceWritesPerInstrumentSecond;
  const ticks = instrumentSeconds * w.tickBatchesPerInstrumentSecond;
  const transitions = incidents * w.transitionsPerIncident + rechecks * w.transitionsPerRecheck;
  // The tick's queries scale with the sub-keys (measured at MEASURED.bandShards); the unbanded partition is one.
  const perShard = (x: number) => ((x - 1) * d.bandShards) / MEASURED.bandShards + 1;
  const tickQueries = perShard(OPS.tick.bandQueries);
  const tickQueryReadUnits = perShard(OPS.tick.bandQueryReadUnits);

  // Per-operation figures (bench/cost-inputs.json), each × its volume.
  // Writes of the closed market's sweeps are the heartbeat's (measured at 4 h): they scale with its period,
  // which is closedHeartbeatMinutes but for accounts holding a market that never closes.
  const closedWrites =
    (1 - w.alwaysOpenAccountShare) * (d.heartbeatMinutes / w.closedHeartbeatMinutes) +
    w.alwaysOpenAccountShare;
  const perOp: [Op, number, number][] = [
    ['sweepMoving', sweepMoving, 1],
    ['sweepClosed', sweepClosed, closedWrites],
    ['walkCrossing', crossings, 1],
    ['trade', trades, 1],
    ['recheck', rechecks, 1],
  ];
  /** Σ over operations of f(op) × volume (× the write factor, for writes). */
  const over = (f: (op: Op) => number, writes = false) =>
    perOp.reduce((a, [op, n, k]) => a + f(op) * n * (writes ? k : 1), 0);
  const summaryWru = Math.ceil(SIZES.bandSummary / 1024);
  const bandWru = (op: Op) => (OPS[op].bandItems + OPS[op].bandWrites * summaryWru) * d.wruPerBandItem;
  const stateWrites = over((op) => OPS[op].stateWrites, true);
  const events = over((op) => OPS[op].events) + incidents * w.eventsPerIncident;
  // A re-check step reads the fresh state, the hold, the settings and the incident's orders after evaluating.
  const recheckStepReads = Math.ceil(SIZES.riskState / 4096) + 3;
  // The wait step reads the settings, the fresh state and the hold; it and the waker write the waiter.
  const waitStepReads = 1 + Math.ceil(SIZES.riskState / 4096) + 1;
  const waiterWrites = waitSteps + wakerInvocations;
  // Unbanded accounts: the watch sweep's messages of 100 share a price cache; coalesced ones are one account
  // each, every price read. Their writes follow time (ratio moves, heartbeat), counted with the sweeps.
  const unbandedReads = watch * ru('sweepClosed') + coalesced * ru('coalesced');

  // --- Lambda ----------------------------------------------------------------------------------------
  const io = (trips: number) => (trips * d.dynamoLatencyMs) / 1000;
  const trips = (op: Op) =>
    (OPS[op].evaluations * d.readRoundTrips +
      OPS[op].stateWrites * d.stateWriteRoundTrips +
      OPS[op].bandWrites * d.bandWriteRoundTrips) /
    OPS[op].evaluations;
  const cpu = MEASURED.cpuMsPerEvaluation;
  // In flight together: the CPU binds, unless the round trips spread over the evaluations in flight do.
  const overlapped = (ms: number, op: Op) => Math.max(cpuS(ms), io(trips(op)) / d.evaluationsInFlight);
  const evaluatorSeconds =
    sweepMoving * overlapped(cpu.sweeps, 'sweepMoving') +
    (sweepClosed + watch) * overlapped(cpu.sweeps, 'sweepClosed') +
    crossings * overlapped(cpu['after-drop'], 'walkCrossing') +
    // One account per message, one after another: every round trip is billed.
    coalesced * (cpuS(cpu.sweeps) + io(trips('coalesced'))) +
    trades * OPS.trade.evaluations * (cpuS(cpu['after-drop']) + io(trips('trade'))) +
    rechecks * (cpuS(cpu.sweeps) + io(trips('recheck') + d.recheckStepRoundTrips)) +
    // The wait step (store the token, read the state and the hold) and the waker (read, complete, delete).
    waitSteps * io(d.waitStepRoundTrips) +
    wakerInvocations * io(d.wakerRoundTrips);
  const evaluatorInvocations =
    sweeps / 1_000 +
    watch / d.accountsPerMessage +
    coalesced / d.coalescedBatch +
    trades * OPS.trade.evaluations +
    rechecks +
    waitSteps +
    wakerInvocations;
  // The price stream: each lane invokes about once a second with what it gathered, up to a batch.
  const lanesInvoking = (ticksPerSecond: number) =>
    Math.min(ticksPerSecond, d.priceStreamLanes) *
    Math.max(1, ticksPerSecond / d.priceStreamLanes / d.priceStreamBatch);
  const streamSeconds = (ticksPerSecond: number, seconds: number) => {
    const invocations = lanesInvoking(ticksPerSecond) * seconds;
    const perInvocation = (ticksPerSecond * seconds) / invocations;
    const queryRounds =
      Math.ceil(perInvocation / d.instrumentsInParallel) * Math.ceil(tickQueries / d.queriesInParallel);
    return {
      invocations,
      seconds: invocations * (cpuS(MEASURED.priceStreamCpuMsPerRecord * perInvocation) + io(queryRounds)),
    };
  };
  const tradingTicksPerSecond = instruments * w.tickBatchesPerInstrumentSecond;
  const open = streamSeconds(tradingTicksPerSecond * (1 - w.alwaysOpenShare), tradingSeconds);
  const around = streamSeconds(tradingTicksPerSecond * w.alwaysOpenShare, MONTH_SECONDS);
  const stream = {
    invocations: open.invocations + around.invocations,
    seconds: open.seconds + around.seconds,
  };

  // --- SQS ---------------------------------------------------------------------------------------------
  // Each price-stream invocation that handles one of an unbanded account's instruments sends it a coalesced
  // message (batched by 10); the FIFO queue delivers one a second (de-duplicated), received and deleted in 10s.
  const positions = SIZES.positionsPerAccount;
  const invocationsPerSecond = lanesInvoking(tradingTicksPerSecond);
  const shareOfInstruments = Math.min(1, tradingTicksPerSecond / invocationsPerSecond / instruments);
  const coalescedSends =
    unbanded * tradingSeconds * invocationsPerSecond * (1 - (1 - shareOfInstruments) ** positions);
  const fifoRequests = coalescedSends / 10 + (coalesced * 2) / d.coalescedBatch;
  const workMessages = watch / d.accountsPerMessage + crossings / d.accountsPerMessage + sweeps / 1_000;
  const startMessages = incidents * w.startMessagesPerIncident;
  const standardRequests =
    workMessages * (0.1 + 2) + startMessages * (1 + 0.2) + d.queuesWithPollers * d.idleReceivesPerQueueMonth;

  // --- storage -------------------------------------------------------------------------------------------
  const overhead = 100; // bytes DynamoDB adds per item for indexing (Developer Guide, item sizes)
  const gb = (bytes: number) => bytes / 1e9;
  const tableBytes = {
    accounts: accounts * (SIZES.account + overhead),
    positions: accounts * positions * (SIZES.position + overhead),
    riskState: accounts * (SIZES.riskState + overhead),
    riskHistory: (stateWrites / 30) * w.historyTtlDays * (SIZES.history + overhead),
    bands:
      accounts * (SIZES.bandSummary + overhead) +
      accounts * SIZES.bandItemsPerAccount * (SIZES.bandItem + overhead),
    actions:
      (incidents / 30) * w.actionRetentionDays * w.actionItemsPerIncident * (w.actionItemBytes + overhead),
    prices: instruments * (SIZES.price + overhead),
  };
  const indexBytes =
    accounts * positions * (40 + overhead) + // Positions byInstrument, keys only
    2 * accounts * (w.overviewRowKb * 1000 + overhead); // the two overview indexes
  const tableGb = gb(sum(tableBytes));

  // --- logs ----------------------------------------------------------------------------------------------
  const invocations = evaluatorInvocations + stream.invocations + stateWrites / d.broadcasterBatch;
  const logGb = gb(invocations * w.logBytesPerInvocation + transitions * w.logBytesPerTransition);

  const lambda = (seconds: number, requests: number) =>
    seconds * d.lambdaMemoryGb * p.lambdaGbSecondArm.usd + requests * p.lambdaRequest.usd;
  const lines = {
    'DynamoDB reads: sweeps':
      (sweepMoving * ru('sweepMoving') + sweepClosed * ru('sweepClosed')) * p.ddbReadUnit.usd,
    'DynamoDB reads: band queries of ticks': ticks * tickQueryReadUnits * p.ddbReadUnit.usd,
    'DynamoDB reads: unbanded (watch, 1/s)': unbandedReads * p.ddbReadUnit.usd,
    'DynamoDB reads: crossings, trades, re-checks':
      (crossings * evaluationReads('walkCrossing') +
        trades * ru('trade') +
        rechecks * (ru('recheck') + recheckStepReads) +
        waitSteps * waitStepReads +
        wakerInvocations) *
      p.ddbReadUnit.usd,
    'DynamoDB writes: state, history, outbox': (over(stateWru, true) + waiterWrites) * p.ddbWriteUnit.usd,
    'DynamoDB writes: band index (delete + put)': over(bandWru, true) * p.ddbWriteUnit.usd,
    'DynamoDB writes: prices, positions, cash':
      (priceWrites * Math.ceil(SIZES.price / 1024) + trades * 2) * p.ddbWriteUnit.usd,
    'DynamoDB storage': (tableGb + gb(indexBytes)) * p.ddbStorageGbMonth.usd,
    'DynamoDB PITR': tableGb * p.ddbPitrGbMonth.usd,
    'Lambda: evaluations': lambda(evaluatorSeconds, evaluatorInvocations),
    'Lambda: price stream': lambda(stream.seconds, stream.invocations),
    'Step Functions: escalations': transitions * p.stepFunctionsTransition.usd,
    'SQS: work, coalescing FIFO, starts':
      standardRequests * p.sqsStandardRequest.usd + fifoRequests * p.sqsFifoRequest.usd,
    EventBridge: events * (p.eventBridgeEvent.usd + gb(1_000) * p.eventBridgeArchiveGb.usd),
    'CloudWatch Logs':
      logGb * p.logsIngestGb.usd + logGb * (w.logRetentionDays / 30) * p.logsStorageGbMonth.usd,
    'CloudWatch metrics, alarms, dashboard':
      w.customMetrics * p.cloudWatchMetricMonth.usd +
      w.alarms * p.cloudWatchAlarmMonth.usd +
      w.dashboards * p.cloudWatchDashboardMonth.usd,
    KMS:
      d.kmsKeys * 2 * p.kmsKeyMonth.usd +
      ((d.kmsConnections * MONTH_SECONDS) / 300) * p.kmsRequest.usd +
      // SQS data keys: per queue and principal every 5 minutes (reuse period), to send and to receive.
      ((d.kmsSqsQueues * d.kmsSqsPrincipals * 2 * MONTH_SECONDS) / 300) * p.kmsRequest.usd,
    'SNS + SES notifications':
      incidents * (w.snsPublishesPerIncident * p.snsPublish.usd + w.emailsPerIncident * p.sesEmail.usd),
    // Overview indexes (their writes ride on each state write), the summary job's eventually consistent
    // reads of the index, the broadcaster, WebSocket messages for the accounts on screen, the REST API.
    'Operator console':
      over(overviewWru, true) * p.ddbWriteUnit.usd +
      (MONTH_MINUTES / w.summaryMinutes) * ((accounts * w.overviewRowKb) / 4) * 0.5 * p.ddbReadUnit.usd +
      lambda((stateWrites / d.broadcasterBatch) * 0.2, stateWrites / d.broadcasterBatch) + // 0.2 s a batch
      stateWrites *
        Math.min(1, w.accountsOnScreen / accounts) *
        w.consoleConnections *
        p.webSocketMessage.usd +
      w.consoleConnections * MONTH_MINUTES * p.webSocketConnectionMinute.usd +
      w.consoleApiRequestsPerMonth * p.apiGatewayRestRequest.usd,
  };
  const total = sum(lines);
  return {
    accounts,
    volumes: {
      evaluations: sweeps + watch + coalesced + crossings + trades * OPS.trade.evaluations + rechecks,
      sweepEvaluations: sweeps,
      unbandedEvaluations: watch + coalesced,
      crossings,
      trades,
      rechecks,
      backstops,
      wakes,
      openIncidents,
      meanIncidentDays: (w.atRiskShare * 30) / w.incidentsPerAccountMonth,
      ticks,
      priceWrites,
      stateWrites,
      transitions,
      events,
      tableGb,
      logGb,
    },
    lines,
    total,
  };
}

export type Month = ReturnType<typeof monthlyCost>;

/** What-ifs at 1M accounts: each changes one input (none is applied to the table). */
export function levers(accounts = 1_000_000) {
  const base = monthlyCost(accounts).total;
  const withWorkload = (change: Partial<typeof WORKLOAD>) =>
    monthlyCost(accounts, { workload: { ...WORKLOAD, ...change }, design: DESIGN }).total - base;
  return [
    {
      lever: 'unbanded accounts coalesced once a minute instead of once a second',
      delta: withWorkload({ coalescedEvaluationsPerSecond: 1 / 60 }),
    },
    {
      lever: 'escalation waits polled every 5 minutes (Wait states, as before the callback waits)',
      delta:
        monthlyCost(accounts, {
          workload: { ...WORKLOAD, recheckSeconds: WORKLOAD.workingRecheckSeconds },
          design: { ...DESIGN, callbackWaits: false },
        }).total - base,
    },
    {
      lever: 'escalation backstop every 4 hours instead of 1',
      delta: withWorkload({ recheckSeconds: 4 * 3600 }),
    },
    {
      lever: 'every unbanded account evaluated on every tick (stale and missing prices too, as before)',
      delta: withWorkload({ unbandedMix: { stalePrices: 0, missingPrices: 0, everyTick: 1 } }),
    },
    {
      lever: 'each +0.1% of accounts unbanded',
      delta: withWorkload({ unbandedShare: WORKLOAD.unbandedShare + 0.001 }),
    },
    {
      lever: 'each +1% of accounts at risk',
      delta: withWorkload({ atRiskShare: WORKLOAD.atRiskShare + 0.01 }),
    },
    {
      lever: 'bandShards 1 instead of 8 (a tick queries about a sixth of the keys)',
      delta: monthlyCost(accounts, { workload: WORKLOAD, design: { ...DESIGN, bandShards: 1 } }).total - base,
    },
    {
      lever: 'heartbeat every 4 h while the market is closed too (as before closedHeartbeatMs)',
      delta: withWorkload({ closedHeartbeatMinutes: DESIGN.heartbeatMinutes }),
    },
    {
      lever: 'band writes back in a transaction (2 WRU an item)',
      delta:
        monthlyCost(accounts, { workload: WORKLOAD, design: { ...DESIGN, wruPerBandItem: 2 } }).total - base,
    },
  ];
}

/**
 * The escalations' waiting three ways at `accounts`, as the month's total and its Step Functions part (the
 * choice in docs/cost.md): Standard polling every waitSeconds (Wait states, before); an Express execution
 * per poll started by EventBridge Scheduler (an Express workflow lasts at most 5 minutes, so it cannot hold
 * the incident: its state would live in DynamoDB; billed per request and per 100 ms at 64 MB, a poll being
 * a re-check of ~0.3 s; the re-checks' Lambda and reads are the polling's); Standard callback waits (now).
 */
export function escalationWaitChoices(accounts = 1_000_000) {
  const w = WORKLOAD;
  const p = PRICES;
  const polling = monthlyCost(accounts, {
    workload: { ...w, recheckSeconds: w.workingRecheckSeconds },
    design: { ...DESIGN, callbackWaits: false },
  });
  const callbacks = monthlyCost(accounts);
  const polls = (accounts * w.atRiskShare * MONTH_SECONDS) / w.workingRecheckSeconds;
  const incidents = accounts * w.incidentsPerAccountMonth;
  const sfn = (m: Month) => m.lines['Step Functions: escalations'];
  const expressSfn =
    polls *
      (p.stepFunctionsExpressRequest.usd +
        0.3 * (64 / 1024) * p.stepFunctionsExpressGbSecond.usd +
        p.schedulerInvocation.usd) +
    incidents * w.transitionsPerIncident * p.stepFunctionsTransition.usd;
  return {
    standardPolling: { total: polling.total, stepFunctions: sfn(polling) },
    expressPolling: { total: polling.total - sfn(polling) + expressSfn, stepFunctions: expressSfn },
    standardCallbacks: { total: callbacks.total, stepFunctions: sfn(callbacks) },
  };
}

const usd = (v: number) => `$${v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2)}`;

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const sizes = [10_000, 100_000, 1_000_000];
  const rows = sizes.map((n) => monthlyCost(n));
  const million = rows[2]!;
  if (process.argv.includes('--json')) {
    console.log(
      JSON.stringify(
        {
          months: rows,
          levers: levers(),
          prices: PRICES,
          workload: { ...WORKLOAD, tickingInstruments: sizes.map(WORKLOAD.tickingInstruments) },
          design: DESIGN,
          measured: MEASURED.sources,
        },
        null,
        2,
      ),
    );
  } else {
    console.log(
      `monthly cost, us-east-1 on demand: full sweep every ${WORKLOAD.sweepMinutes} min, ${WORKLOAD.unbandedShare * 100}% of accounts unbanded, ${WORKLOAD.atRiskShare * 100}% at risk, ${WORKLOAD.tradingHoursPerMonth} trading hours\n`,
    );
    const width = 44;
    console.log(
      ['', ...sizes.map((n) => `${n.toLocaleString('en-US')} accounts`)]
        .map((c, i) => (i === 0 ? c.padEnd(width) : c.padStart(20)))
        .join(''),
    );
    for (const name of [...Object.keys(million.lines), 'total']) {
      const cells = rows.map((r) => usd(name === 'total' ? r.total : r.lines[name as keyof Month['lines']]));
      console.log([name.padEnd(width), ...cells.map((c) => c.padStart(20))].join(''));
    }
    const v = million.volumes;
    const top = Object.entries(million.lines)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([name, cost]) => `${name} ${usd(cost)} (${Math.round((cost / million.total) * 100)}%)`);
    console.log(
      `\nat 1M accounts: ${(v.evaluations / 1e9).toFixed(2)}B evaluations (${(v.sweepEvaluations / 1e9).toFixed(2)}B sweep, ${(v.unbandedEvaluations / 1e9).toFixed(2)}B unbanded), ${(v.ticks / 1e9).toFixed(2)}B ticks, ${(v.transitions / 1e6).toFixed(0)}M state transitions (${v.openIncidents.toLocaleString('en-US')} open escalations, ${v.meanIncidentDays.toFixed(1)} days each), ${(v.stateWrites / 1e6).toFixed(0)}M state writes a month`,
    );
    console.log(`dominant: ${top.join('; ')}`);
    console.log(
      `goal ≤ $10,000 at 1M accounts: ${million.total <= 10_000 ? 'met' : `not met (${usd(million.total)})`}`,
    );
    const choices = escalationWaitChoices();
    const choice = (c: { total: number; stepFunctions: number }) =>
      `${usd(c.total)} (Step Functions ${usd(c.stepFunctions)})`;
    console.log(
      `escalation waits, the month at 1M accounts: Standard polling every ${WORKLOAD.workingRecheckSeconds} s ${choice(choices.standardPolling)}; an Express execution per poll (+ Scheduler) ${choice(choices.expressPolling)}; Standard callback waits, ${WORKLOAD.recheckSeconds / 3600} h backstop (deployed) ${choice(choices.standardCallbacks)}`,
    );
    console.log('levers (what-ifs at 1M accounts, not applied):');
    for (const l of levers())
      console.log(`  ${l.lever}: ${l.delta < 0 ? '−' : '+'}${usd(Math.abs(l.delta))}`);
    console.log(`inputs: ${MEASURED.sources.operations}; ${MEASURED.sources.cpu}`);
  }
}
