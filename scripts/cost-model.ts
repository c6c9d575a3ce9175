/**
 * `npm run cost`: monthly AWS cost of Margin Guard for 10k / 100k / 1M accounts, from measured per-evaluation
 * figures (npm run bench) and AWS list prices (us-east-1, on-demand; check the pricing pages before relying
 * on them). Prints what dominates and what the design choices save.
 */
const PRICE = {
  lambdaGbSecondArm: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  ddbReadUnit: 0.125 / 1e6, // on-demand read request unit
  ddbWriteUnit: 0.625 / 1e6, // on-demand write request unit
  ddbStorageGbMonth: 0.25,
  eventBridgeEvent: 1 / 1e6,
  sqsRequest: 0.4 / 1e6,
  stepFunctionsTransition: 0.025 / 1000,
  snsPublish: 0.5 / 1e6,
  webSocketMessage: 1 / 1e6,
  webSocketConnectionMinute: 0.25 / 1e6,
};

/** Measured or derived per-evaluation figures; see docs/cost.md for where each comes from. */
export const MEASURED = {
  /** CPU per full evaluation (20 positions), ms, from the evaluator benchmark on one core. */
  cpuMsPerEvaluation: 1.2,
  /** Lambda memory and the vCPU share it buys (1,769 MB = 1 vCPU). */
  memoryGb: 1,
  /** Read units per sweep evaluation: account 1 + positions query 1 + risk state (~10 KB) 3 + band summary 1. */
  readUnitsPerEvaluation: 6,
  /** Extra read units per evaluation without the per-segment price cache (prices, strongly consistent). */
  priceReadUnitsUncached: 20,
  /** Write units per state write: transaction (×2) of state (~10 KB) and history (<1 KB). */
  writeUnitsPerWrite: 2 * (10 + 1),
  /** Write units per band rewrite: transaction (×2) of ~2 rows and the summary, each under 1 KB. */
  writeUnitsPerBandWrite: 2 * 3,
  /** State writes per sweep evaluation, 15-minute sweeps and 4 h heartbeat (evaluator bench; 1-minute sweeps, 15-min heartbeat: 0.067 too). */
  sweepWritesPerEvaluation: 0.067,
  /** Band rewrites per sweep evaluation under the same regime (evaluator bench: 0.045, mostly first writes). */
  sweepBandWritesPerEvaluation: 0.045,
  /** Share of holders a tick reaches on the band path, per trading day (fan-out bench, 2020 crash path: 5.5%). */
  crossingShareCrashDay: 0.055,
  /** Write units the two overview indexes add to a state write (INCLUDE projections under 1 KB each). */
  overviewIndexUnitsPerWrite: 2,
  /** An overview-index row (level, ratio, equity, maintenance, distances, incident), KB. */
  overviewRowKb: 0.4,
  stateKbPerAccount: 10,
  historyKbPerWrite: 0.3,
  historyTtlDays: 90,
};

export interface Regime {
  /** Full sweep period, minutes. */
  sweepMinutes: number;
  heartbeatMinutes: number;
  /** Guard bands: ticks reach only crossed accounts; without them every holder, about once a trading minute. */
  bands: boolean;
  compaction?: boolean;
  priceCache?: boolean;
}

export const BAND_REGIME: Regime = { sweepMinutes: 15, heartbeatMinutes: 240, bands: true };
export const BEFORE_BANDS: Regime = { sweepMinutes: 1, heartbeatMinutes: 15, bands: false };

const MONTH_MINUTES = 30 * 24 * 60;
const TRADING_DAYS = 21;
const ASSUME = {
  /** Without bands: price-driven evaluations per account per month, ~1 per trading minute (6.5 h × 21 days). */
  streamEvaluationsPerAccount: 6.5 * 60 * TRADING_DAYS,
  /** With bands: every trading day taken as bad as the 2020 crash path's average day, and doubled for intraday round trips. */
  crossingsPerAccount: 2 * MEASURED.crossingShareCrashDay * TRADING_DAYS,
  /** Accounts on the watch list (no band: missing prices, invalid data, no room; not stale prices): every minute. */
  watchedShare: 0.005,
  /** A crossing usually moves the ratio or the level: half of them write state, all rewrite bands. */
  crossingWriteShare: 0.5,
  eventsPerAccount: 12, // level changes and calls
  incidentsPerAccount: 0.5,
  transitionsPerIncident: 12,
  accountsPerSweepPage: 100,
  /** Band queries: instruments ticking once a second in trading hours, scaled with the broker's size. */
  tickingInstruments: (accounts: number) => Math.min(2_000, Math.max(200, accounts / 500)),
  bandShards: 8,
  /** The all-accounts summary job (GET /summary) reads the overview index every 5 minutes. */
  summaryMinutes: 5,
  /** People with the console open around the clock, each watching ~200 accounts' live channels. */
  consoleConnections: 20,
  accountsOnScreen: 200,
};

export function monthlyCost(accounts: number, regime: Regime = BAND_REGIME) {
  const compaction = regime.compaction ?? true;
  const priceCache = regime.priceCache ?? true;
  const sweepEvaluations = accounts * (MONTH_MINUTES / regime.sweepMinutes);
  const watchEvaluations = regime.bands ? accounts * ASSUME.watchedShare * MONTH_MINUTES : 0;
  const streamEvaluations =
    accounts * (regime.bands ? ASSUME.crossingsPerAccount : ASSUME.streamEvaluationsPerAccount);
  const evaluations = sweepEvaluations + watchEvaluations + streamEvaluations;
  const gbSeconds = ((evaluations * MEASURED.cpuMsPerEvaluation * (1769 / 1024)) / 1000) * MEASURED.memoryGb;
  const invocations =
    (sweepEvaluations + watchEvaluations) / ASSUME.accountsPerSweepPage + streamEvaluations / 50;
  // A tick's band queries: two strongly consistent queries per shard (1 read unit each, usually empty).
  const tickBatches = ASSUME.tickingInstruments(accounts) * 6.5 * 3600 * TRADING_DAYS;
  const bandQueryUnits = regime.bands ? tickBatches * 2 * ASSUME.bandShards : 0;
  const readUnits =
    evaluations * MEASURED.readUnitsPerEvaluation +
    (priceCache ? streamEvaluations + watchEvaluations : evaluations) * MEASURED.priceReadUnitsUncached +
    bandQueryUnits;
  const stateWrites = compaction
    ? (sweepEvaluations + watchEvaluations) * MEASURED.sweepWritesPerEvaluation +
      streamEvaluations * (regime.bands ? ASSUME.crossingWriteShare : MEASURED.sweepWritesPerEvaluation)
    : evaluations;
  const bandWrites = regime.bands
    ? streamEvaluations + (sweepEvaluations + watchEvaluations) * MEASURED.sweepBandWritesPerEvaluation
    : 0;
  const storageGb =
    (accounts * MEASURED.stateKbPerAccount +
      (stateWrites / 30) * MEASURED.historyTtlDays * MEASURED.historyKbPerWrite) /
    1024 /
    1024;
  const lines = {
    'Lambda compute': gbSeconds * PRICE.lambdaGbSecondArm + invocations * PRICE.lambdaRequest,
    'DynamoDB reads': readUnits * PRICE.ddbReadUnit,
    'DynamoDB writes':
      (stateWrites * MEASURED.writeUnitsPerWrite + bandWrites * MEASURED.writeUnitsPerBandWrite) *
      PRICE.ddbWriteUnit,
    'DynamoDB storage': storageGb * PRICE.ddbStorageGbMonth,
    EventBridge: accounts * ASSUME.eventsPerAccount * PRICE.eventBridgeEvent,
    'Step Functions':
      accounts * ASSUME.incidentsPerAccount * ASSUME.transitionsPerIncident * PRICE.stepFunctionsTransition,
    // Overview indexes (on each state write), the summary job's index reads (eventually consistent, 4 KB
    // units at half a read unit), the broadcaster and the WebSocket messages for accounts on screen.
    'Operator console':
      stateWrites * MEASURED.overviewIndexUnitsPerWrite * PRICE.ddbWriteUnit +
      (MONTH_MINUTES / ASSUME.summaryMinutes) *
        ((accounts * MEASURED.overviewRowKb) / 4) *
        0.5 *
        PRICE.ddbReadUnit +
      (stateWrites / 100) * (PRICE.lambdaRequest + 0.2 * 0.5 * PRICE.lambdaGbSecondArm) +
      stateWrites *
        Math.min(1, ASSUME.accountsOnScreen / accounts) *
        ASSUME.consoleConnections *
        PRICE.webSocketMessage +
      ASSUME.consoleConnections * MONTH_MINUTES * PRICE.webSocketConnectionMinute,
    'SQS + SNS':
      ((sweepEvaluations + watchEvaluations) / ASSUME.accountsPerSweepPage) * 3 * PRICE.sqsRequest +
      accounts * ASSUME.incidentsPerAccount * 2 * PRICE.snsPublish,
  };
  const total = Object.values(lines).reduce((a, b) => a + b, 0);
  return { accounts, evaluations, stateWrites, bandQueryUnits, lines, total };
}

const usd = (v: number) => `$${v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2)}`;

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const sizes = [10_000, 100_000, 1_000_000];
  const rows = sizes.map((n) => monthlyCost(n));
  const names = Object.keys(rows[0]!.lines);
  console.log(
    `monthly cost with guard bands: ticks reach crossed accounts only, full sweep every ${BAND_REGIME.sweepMinutes} min, watch list every minute, heartbeat ${BAND_REGIME.heartbeatMinutes / 60} h\n`,
  );
  console.log(
    ['', ...sizes.map((n) => `${n.toLocaleString('en-US')} accounts`)]
      .map((c, i) => (i === 0 ? c.padEnd(18) : c.padStart(21)))
      .join(''),
  );
  for (const name of [...names, 'total']) {
    const cells = rows.map((r) => usd(name === 'total' ? r.total : r.lines[name as keyof typeof r.lines]));
    console.log([name.padEnd(18), ...cells.map((c) => c.padStart(21))].join(''));
  }
  const million = monthlyCost(1_000_000);
  const before = monthlyCost(1_000_000, BEFORE_BANDS);
  const dominant = Object.entries(million.lines).sort((a, b) => b[1] - a[1])[0]!;
  console.log(
    `\nat 1M accounts: ${(million.evaluations / 1e6).toFixed(0)}M evaluations and ${(million.stateWrites / 1e6).toFixed(0)}M state writes a month; ${dominant[0]} dominate (${Math.round((dominant[1] / million.total) * 100)}% of ${usd(million.total)})`,
  );
  console.log(
    `before guard bands (every holder per tick, 1-minute sweep, 15-min heartbeat): ${usd(before.total)}, ${(before.evaluations / 1e9).toFixed(1)}B evaluations`,
  );
  const noCompaction = monthlyCost(1_000_000, { ...BAND_REGIME, compaction: false });
  console.log(
    `with bands but writing every evaluation instead of on change + heartbeat: ${usd(noCompaction.total)} (+${usd(noCompaction.total - million.total)})`,
  );
}
