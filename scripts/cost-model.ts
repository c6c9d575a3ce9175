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
};

/** Measured or derived per-evaluation figures; see docs/cost.md for where each comes from. */
export const MEASURED = {
  /** CPU per full evaluation (20 positions), ms, from the evaluator benchmark on one core. */
  cpuMsPerEvaluation: 1.2,
  /** Lambda memory and the vCPU share it buys (1,769 MB = 1 vCPU). */
  memoryGb: 1,
  /** State writes per evaluation with write-on-change + 15-min heartbeat (evaluator benchmark). */
  writesPerEvaluation: 0.067,
  /** Read units per sweep evaluation: account 1 + positions query 1 + risk state (~10 KB) 3; prices cached per segment. */
  readUnitsPerEvaluation: 5,
  /** Extra read units per evaluation without the per-segment price cache (20 eventually consistent item reads). */
  priceReadUnitsUncached: 10,
  /** Write units per state write: transaction (×2) of state (~10 KB) and history (<1 KB). */
  writeUnitsPerWrite: 2 * (10 + 1),
  stateKbPerAccount: 10,
  historyKbPerWrite: 0.3,
  historyTtlDays: 90,
};

const ASSUME = {
  sweepsPerMonth: 30 * 24 * 60, // every minute
  /** Price-driven evaluations per account per month: ~1 per trading minute (6.5 h × 21 days). */
  streamEvaluationsPerAccount: 6.5 * 60 * 21,
  eventsPerAccount: 12, // level changes and calls
  incidentsPerAccount: 0.5,
  transitionsPerIncident: 12,
  accountsPerSweepPage: 100,
};

export function monthlyCost(accounts: number, options: { compaction?: boolean; priceCache?: boolean } = {}) {
  const compaction = options.compaction ?? true;
  const priceCache = options.priceCache ?? true;
  const sweepEvaluations = accounts * ASSUME.sweepsPerMonth;
  const streamEvaluations = accounts * ASSUME.streamEvaluationsPerAccount;
  const evaluations = sweepEvaluations + streamEvaluations;
  const gbSeconds = ((evaluations * MEASURED.cpuMsPerEvaluation * (1769 / 1024)) / 1000) * MEASURED.memoryGb;
  const invocations = sweepEvaluations / ASSUME.accountsPerSweepPage + streamEvaluations / 50;
  const readUnits =
    evaluations * MEASURED.readUnitsPerEvaluation +
    (priceCache ? streamEvaluations : evaluations) * MEASURED.priceReadUnitsUncached;
  const writes = evaluations * (compaction ? MEASURED.writesPerEvaluation : 1);
  const storageGb =
    (accounts * MEASURED.stateKbPerAccount +
      (writes / 30) * MEASURED.historyTtlDays * MEASURED.historyKbPerWrite) /
    1024 /
    1024;
  const lines = {
    'Lambda compute': gbSeconds * PRICE.lambdaGbSecondArm + invocations * PRICE.lambdaRequest,
    'DynamoDB reads': readUnits * PRICE.ddbReadUnit,
    'DynamoDB writes': writes * MEASURED.writeUnitsPerWrite * PRICE.ddbWriteUnit,
    'DynamoDB storage': storageGb * PRICE.ddbStorageGbMonth,
    EventBridge: accounts * ASSUME.eventsPerAccount * PRICE.eventBridgeEvent,
    'Step Functions':
      accounts * ASSUME.incidentsPerAccount * ASSUME.transitionsPerIncident * PRICE.stepFunctionsTransition,
    'SQS + SNS':
      (sweepEvaluations / ASSUME.accountsPerSweepPage) * 3 * PRICE.sqsRequest +
      accounts * ASSUME.incidentsPerAccount * 2 * PRICE.snsPublish,
  };
  const total = Object.values(lines).reduce((a, b) => a + b, 0);
  return { accounts, evaluations, lines, total };
}

const usd = (v: number) => `$${v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2)}`;

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const sizes = [10_000, 100_000, 1_000_000];
  const rows = sizes.map((n) => monthlyCost(n));
  const names = Object.keys(rows[0]!.lines);
  console.log(
    `monthly cost, 1-minute sweep + stream updates (${MEASURED.cpuMsPerEvaluation} ms CPU/eval, ${MEASURED.writesPerEvaluation} writes/eval)\n`,
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
  const noCompaction = monthlyCost(1_000_000, { compaction: false });
  const noCache = monthlyCost(1_000_000, { priceCache: false });
  const dominant = Object.entries(million.lines).sort((a, b) => b[1] - a[1])[0]!;
  console.log(
    `\nat 1M accounts ${dominant[0]} dominate (${Math.round((dominant[1] / million.total) * 100)}% of ${usd(million.total)})`,
  );
  console.log(
    `writing every evaluation instead of on change + heartbeat: ${usd(noCompaction.total)} (+${usd(noCompaction.total - million.total)})`,
  );
  console.log(
    `reading prices per account instead of once per sweep segment: ${usd(noCache.total)} (+${usd(noCache.total - million.total)})`,
  );
}
