import { describe, expect, it } from 'vitest';
import {
  DESIGN,
  PRICES,
  WORKLOAD,
  escalationWaitChoices,
  levers,
  monthlyCost,
} from '../../../scripts/cost-model.ts';
import { escalationConfigSchema } from '../../../shared/escalation/settings.ts';
import { DEFAULT_PIPELINE_CONFIG } from '../../../shared/pipeline/config.ts';

const MILLION = 1_000_000;

describe('cost model (npm run cost)', () => {
  const month = monthlyCost(MILLION);

  it('has every line the issue names, each finite and non-negative, and a total that is their sum', () => {
    for (const line of [
      'DynamoDB writes: prices, positions, cash', // price ingestion
      'Lambda: price stream',
      'DynamoDB writes: band index (delete + put)', // the index's write amplification
      'Step Functions: escalations', // 5-minute re-checks over long incidents
      'DynamoDB writes: state, history, outbox', // clearOutbox
      'CloudWatch Logs',
      'KMS',
      'DynamoDB PITR',
      'DynamoDB storage',
      'SQS: work, coalescing FIFO, starts',
      'EventBridge',
      'SNS + SES notifications',
      'Operator console',
    ])
      expect(month.lines).toHaveProperty([line]);
    for (const [name, cost] of Object.entries(month.lines)) {
      expect(Number.isFinite(cost), name).toBe(true);
      expect(cost, name).toBeGreaterThanOrEqual(0);
    }
    const sum = Object.values(month.lines).reduce((a, b) => a + b, 0);
    expect(month.total).toBeCloseTo(sum, 6);
  });

  it('names a source for every price', () => {
    for (const [name, price] of Object.entries(PRICES)) {
      expect(price.source.length, name).toBeGreaterThan(10);
      expect(price.usd, name).toBeGreaterThanOrEqual(0);
    }
  });

  it('worked example: Step Functions at 1M accounts, by hand', () => {
    // 0.1 incidents per account a month: 100,000 incidents × 4 transitions (alert, its choice, resolve,
    // resolved). 1% of accounts at risk: 10,000 open escalations, each waiting on a callback task that its
    // 1-hour backstop ends 720 times in a 30-day month (7,200,000 re-checks); each incident's later level
    // changes wake it 1.5 times (150,000) and a deleverage's orders are re-checked every 300 s for up to
    // their 900 s fill timeout (3 × 100,000). 7,650,000 loops × 3 transitions (wait, re-check, choice).
    // (400,000 + 7,650,000 × 3) × $0.025 / 1,000 = 23,350,000 × 0.000025 = $583.75.
    expect(WORKLOAD.incidentsPerAccountMonth).toBe(0.1);
    expect(WORKLOAD.atRiskShare).toBe(0.01);
    expect(month.volumes.backstops).toBeCloseTo(7_200_000, 6);
    expect(month.volumes.wakes).toBeCloseTo(150_000, 6);
    expect(month.volumes.rechecks).toBeCloseTo(7_650_000, 6);
    expect(month.lines['Step Functions: escalations']).toBeCloseTo(583.75, 6);
    expect(month.volumes.meanIncidentDays).toBeCloseTo(3, 9);
  });

  it('the waits’ periods are the deployed /config defaults, not constants of the model', () => {
    const defaults = escalationConfigSchema.parse({});
    expect(WORKLOAD.recheckSeconds).toBe(defaults.wakeBackstopSeconds);
    expect(WORKLOAD.workingRecheckSeconds).toBe(defaults.waitSeconds);
    expect(WORKLOAD.ordersWorkingSeconds).toBe(defaults.fillTimeoutSeconds);
  });

  it('the three ways to wait: polling every 5 minutes is the lever’s month, callbacks the cheapest', () => {
    const choices = escalationWaitChoices();
    // Wait states polling every 300 s: 10,000 × 8,640 × 3 + 400,000 = 259,600,000 transitions = $6,490.
    expect(choices.standardPolling.stepFunctions).toBeCloseTo(6_490, 6);
    const polled = levers().find((l) => l.lever.startsWith('escalation waits polled every 5 minutes'))!;
    expect(choices.standardPolling.total - choices.standardCallbacks.total).toBeCloseTo(polled.delta, 6);
    // Express per poll: 86.4M × ($1/M request + 0.3 s × 1/16 GB × $0.00001667 + $1/M Scheduler) + $10.
    expect(choices.expressPolling.stepFunctions).toBeCloseTo(
      86.4e6 * (2e-6 + 0.3 * 0.0625 * 0.00001667) + 10,
      6,
    );
    // Callbacks are the cheapest month: the polls' own re-check Lambdas and reads outweigh Express's saving.
    expect(choices.standardCallbacks.total).toBeLessThan(choices.expressPolling.total);
    expect(choices.expressPolling.total).toBeLessThan(choices.standardPolling.total);
  });

  it('worked example: unbanded accounts at 1M, by hand', () => {
    // 0.5% with a data problem or no room: 5,000 accounts. The stale-priced 80% are banded on their fresh
    // prices (pinned on the stale): nothing per second. Missing prices (10%) and invalid data or no room
    // (10%) are watched every minute: 1,000 × 43,200 = 43,200,000. Only the last 500 are found by every
    // tick, coalesced once a second in trading hours: 500 × 491,400 = 245,700,000.
    expect(WORKLOAD.unbandedMix).toEqual({ stalePrices: 0.8, missingPrices: 0.1, everyTick: 0.1 });
    expect(month.volumes.unbandedEvaluations).toBeCloseTo(43_200_000 + 245_700_000, 0);
  });

  it('the heartbeats are the pipeline defaults: 4 h, and a day while every market an account holds is closed', () => {
    expect(DESIGN.heartbeatMinutes).toBe(DEFAULT_PIPELINE_CONFIG.heartbeatMs / 60_000);
    expect(WORKLOAD.closedHeartbeatMinutes).toBe(24 * 60);
    // Closed-market sweeps write the heartbeat at 4 h / 24 h of the measured rate, but for the 10% of
    // accounts holding a 24x7 instrument: 0.9 / 6 + 0.1 = 0.25 of sweepClosed's measured writes.
    const before = monthlyCost(MILLION, {
      workload: { ...WORKLOAD, closedHeartbeatMinutes: DESIGN.heartbeatMinutes },
      design: DESIGN,
    });
    expect(WORKLOAD.alwaysOpenAccountShare).toBe(0.1);
    expect(month.volumes.stateWrites).toBeLessThan(before.volumes.stateWrites);
  });

  it('worked example: price ingestion and fills at 1M accounts, by hand', () => {
    // 2,000 instruments: 95% tick once a second for 136.5 trading hours (491,400 s), 5% around the clock
    // (2,592,000 s): 933,660,000 + 259,200,000 = 1,192,860,000 price writes of one write unit (an item
    // under 1 KB). Fills: 10 a month × 1M accounts, a position and the cash: 20,000,000 write units.
    // 1,212,860,000 × $0.625 / 1e6 = $758.04.
    expect(month.volumes.priceWrites).toBeCloseTo(1_192_860_000, 0);
    expect(month.lines['DynamoDB writes: prices, positions, cash']).toBeCloseTo(758.0375, 4);
  });

  it('worked example: KMS, by hand (the same at every size)', () => {
    // 2 keys × ($1 + $1 for the rotated backing key) = $4; DynamoDB: 1,500 connections refresh the table
    // key every 5 minutes: 12,960,000 requests; SQS: 4 queues × 5 principals × 2 (send, receive) every
    // 5 minutes: 345,600. 13,305,600 × $0.03 / 10,000 = $39.9168; with the keys, $43.9168.
    expect(DESIGN.kmsKeys).toBe(2);
    expect(DESIGN.kmsConnections).toBe(1_500);
    expect(month.lines.KMS).toBeCloseTo(43.9168, 4);
    expect(monthlyCost(10_000).lines.KMS).toBeCloseTo(43.9168, 4);
  });

  it('scales: per-account lines grow with the accounts, the tick lines with the instruments', () => {
    const small = monthlyCost(10_000);
    const medium = monthlyCost(100_000);
    expect(month.lines['DynamoDB reads: sweeps']).toBeCloseTo(small.lines['DynamoDB reads: sweeps'] * 100, 6);
    // 10k and 100k accounts both follow the 200-instrument floor.
    expect(medium.lines['DynamoDB reads: band queries of ticks']).toBeCloseTo(
      small.lines['DynamoDB reads: band queries of ticks'],
      9,
    );
    expect(month.total).toBeGreaterThan(medium.total);
  });

  it('levers are what-ifs against the total', () => {
    const byName = Object.fromEntries(levers().map((l) => [l.lever, l.delta]));
    expect(byName['unbanded accounts coalesced once a minute instead of once a second']).toBeLessThan(0);
    expect(byName['band writes back in a transaction (2 WRU an item)']).toBeCloseTo(
      month.lines['DynamoDB writes: band index (delete + put)'],
      6,
    );
  });
});
