import { BandRepository } from '../../functions/lib/bands-repository.ts';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { countFailedAttempts, startEscalation } from '../../functions/escalation-starter/start.ts';
import { runStep, type EscalationDeps } from '../../functions/escalation/steps.ts';
import { ActionsRepository, SettingsRepository } from '../../functions/lib/actions-repository.ts';
import { evaluateAccount } from '../../functions/lib/evaluate-account.ts';
import { RiskRepository } from '../../functions/lib/risk-repository.ts';
import { Tally } from '../../functions/lib/telemetry.ts';
import { BrokerSimulator } from '../../local/broker-simulator.ts';
import { escalationDefinition, runEscalation, type LocalRun } from '../../local/escalation-runner.ts';
import type { EventDetail } from '../../shared/events/schemas.ts';
import { createTables, localClient } from '../../local/tables.ts';
import { testDynamoDb, type TestDynamoDb } from '../helpers/dynamodb.ts';
import { DEFAULT_PIPELINE_CONFIG } from '../../shared/pipeline/config.ts';
import { CapturedDeadLetter, CapturedNotifier, CapturedPublisher } from '../helpers/capture.ts';

let db: TestDynamoDb;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let tables: Awaited<ReturnType<typeof createTables>>;
let deps: EscalationDeps;
let publisher: CapturedPublisher;
let notifier: CapturedNotifier;
let n = 0;

beforeAll(async () => {
  db = await testDynamoDb();
  client = localClient(db.endpoint);
  doc = DynamoDBDocumentClient.from(client);
  tables = await createTables(client, db.prefix('sm'));
  escalationDefinition(); // synthesize once up front
}, 180_000);
afterAll(async () => db?.stop());

beforeEach(() => {
  publisher = new CapturedPublisher();
  notifier = new CapturedNotifier();
  const repo = new RiskRepository(client, tables);
  deps = {
    store: repo,
    repo,
    bands: new BandRepository(client, tables.bands, 2),
    publisher,
    deadLetter: new CapturedDeadLetter(),
    config: DEFAULT_PIPELINE_CONFIG,
    telemetry: new Tally(),
    actions: new ActionsRepository(client, tables.actions),
    settings: new SettingsRepository(client, tables.settings),
    notifier,
  };
});

const put = (table: keyof typeof tables, item: Record<string, unknown>) =>
  doc.send(new PutCommand({ TableName: tables[table], Item: item }));
const setPrice = (instrument: string, price: string) =>
  put('prices', { instrument, price, priceTime: new Date().toISOString() });

/** A fresh Reg T account of 100 XYZ with `cash`, evaluated once so it has an open incident. */
async function account(cash: string, price: string): Promise<{ accountId: string; incidentId: string }> {
  const accountId = `ACC-${++n}`;
  const instrument = `XYZ${n}`;
  await put('accounts', { accountId, model: 'reg-t', cash });
  await put('positions', { accountId, instrument, quantity: '100', avgCost: price });
  await setPrice(instrument, price);
  await evaluateAccount(accountId, deps);
  const incidentId = (await deps.repo.getRiskState(accountId))!.tracker.incident!.id;
  return { accountId, incidentId };
}

/** The broker fills every order the automation requested so far. */
async function brokerFills(): Promise<void> {
  const broker = new BrokerSimulator(client, tables);
  for (const e of publisher.events) {
    if (e.detailType === 'DeleverageRequested' || e.detailType === 'LiquidationRequested')
      await broker.fill(e.detail as EventDetail<'DeleverageRequested'>);
  }
}

/** Runs the real step handler, letting a test change the world before a given step runs. */
function steps(before: (payload: { action: string }, count: number) => Promise<void> = async () => {}) {
  let count = 0;
  return async (payload: unknown) => {
    await before(payload as { action: string }, count++);
    return runStep(payload, deps);
  };
}

describe('escalation state machine, as synthesized, on DynamoDB Local', () => {
  it('recovers between steps: alert, then the re-check finds SAFE and resolves', async () => {
    // 100 @ 100 with cash −6,500: equity 3,500 / 2,500 = 1.4 → CRITICAL… start from WARNING instead:
    const a = await account('-6200', '100'); // 3,800 / 2,500 = 1.52 → WARNING
    const run = await runEscalation(
      a,
      steps(async (p) => {
        if (p.action === 'check') await setPrice(`XYZ${n}`, '130'); // 6,800 / 3,250 = 2.09 → SAFE
      }),
    );
    expect(run.error ?? run.status).toBe('SUCCEEDED');
    expect(run.path).toEqual([
      'Alert',
      'After first look',
      'Wait after alert',
      'Re-check after alert',
      'After alert',
      'Resolve and notify',
      'Resolved',
    ]);
    expect(notifier.kinds()).toEqual(['alerts:alert', 'alerts:resolved']);
    expect(publisher.types().filter((t) => t.endsWith('Requested'))).toEqual([]);
    const audit = (await deps.actions.listAudit(a.accountId)).map((e) => e.action).reverse();
    expect(audit).toEqual(['alert', 'resolved']);
  });

  it('CRITICAL: deleverages once with idempotency keys, then resolves', async () => {
    const a = await account('-6500', '100'); // 3,500 / 2,500 = 1.4 → CRITICAL
    const run = await runEscalation(
      a,
      steps(async (p) => {
        if (p.action === 'check') await brokerFills();
      }),
    );
    expect(run.error ?? run.status).toBe('SUCCEEDED');
    expect(run.path).toEqual([
      'Alert',
      'After first look',
      'Deleverage',
      'Wait after deleverage',
      'Re-check after deleverage',
      'After deleverage',
      'Resolve and notify',
      'Resolved',
    ]);
    const requests = publisher.events.filter((e) => e.detailType === 'DeleverageRequested');
    expect(requests).toHaveLength(1);
    const detail = requests[0]!.detail as {
      orders: { side: string; quantity: string; idempotencyKey: string }[];
      incidentId: string;
      requestedBy: string;
    };
    expect(detail).toMatchObject({ incidentId: a.incidentId, requestedBy: 'automation' });
    expect(detail.orders).toHaveLength(1);
    expect(detail.orders[0]!.side).toBe('SELL');
    expect(detail.orders[0]!.idempotencyKey).toMatch(/^mg-/);
    expect(notifier.kinds()).toEqual(['alerts:alert', 'alerts:deleverage', 'alerts:resolved']);
    // Filled: 3,500 / (0.25 · remaining value) ≥ 2.05 after fees and slippage.
    const state = await deps.repo.getRiskState(a.accountId);
    expect(state!.level).toBe('SAFE');
  });

  it('LIQUIDATION after deleverage: liquidates and pages on-call', async () => {
    const a = await account('-6500', '100'); // CRITICAL
    const run = await runEscalation(
      a,
      steps(async (p, count) => {
        if (p.action === 'check' && count >= 2) await setPrice(`XYZ${n}`, '40'); // after the deleverage: crash
      }),
    );
    expect(run.error ?? run.status).toBe('SUCCEEDED');
    expect(run.path.slice(-3)).toEqual(['After deleverage', 'Liquidate', 'Liquidation requested']);
    expect(publisher.types().filter((t) => t.endsWith('Requested'))).toEqual([
      'DeleverageRequested',
      'LiquidationRequested',
    ]);
    expect(notifier.kinds()).toContain('pages:liquidation');
  });

  it('a manual hold pauses automation until released', async () => {
    const a = await account('-6500', '100'); // CRITICAL
    await deps.actions.setHold({
      accountId: a.accountId,
      reason: 'customer wiring funds',
      by: 'ops',
      at: new Date().toISOString(),
    });
    const run = await runEscalation(
      a,
      steps(async (p, count) => {
        if (p.action === 'check' && count === 2) {
          await deps.actions.clearHold(a.accountId);
          await put('accounts', { accountId: a.accountId, model: 'reg-t', cash: '0' }); // funds arrived
        }
      }),
    );
    expect(run.error ?? run.status).toBe('SUCCEEDED');
    expect(run.path.slice(0, 5)).toEqual([
      'Alert',
      'After first look',
      'On hold (at start)',
      'Re-check after alert',
      'After alert',
    ]);
    expect(run.path).not.toContain('Deleverage');
    expect(publisher.types().filter((t) => t.endsWith('Requested'))).toEqual([]);
  });

  it('a task that keeps failing pages on-call, records the failure and fails the execution', async () => {
    const a = await account('-6500', '100'); // CRITICAL → deleverage publishes → the bus is down for good
    publisher.failNext = 100;
    const run = await runEscalation(a, steps());
    expect(run.status).toBe('FAILED');
    expect(run.path.slice(-2)).toEqual(['Page on-call about the failure', 'Escalation failed']);
    expect(notifier.kinds()).toContain('pages:failure');
    expect((await deps.actions.listAudit(a.accountId)).map((e) => e.action)).toContain('escalation-failed');
    // The plan was recorded once; a later retry republishes the same orders, never a new plan.
    const step = await deps.actions.getStep(a.accountId, a.incidentId, 'deleverage');
    expect(step).toMatchObject({ status: 'planned' });
  });

  it('never runs a step twice for one incident', async () => {
    const a = await account('-6500', '100');
    const first = await runStep({ action: 'deleverage', ...a }, deps);
    const second = await runStep({ action: 'deleverage', ...a }, deps);
    expect(first.performed).toBe(true);
    expect(second.performed).toBe(false);
    expect(publisher.types().filter((t) => t === 'DeleverageRequested')).toHaveLength(1);
  });
});

/** An AWS SDK error as the client throws it once its own retries are spent. */
const sdkError = (name: string, status: number, fault: 'client' | 'server') =>
  Object.assign(new Error(`${name} (injected)`), {
    name,
    $fault: fault,
    $metadata: { httpStatusCode: status },
  });

describe('faults inside real steps, through the synthesized definition (DynamoDB Local)', () => {
  it('SNS failing once after the SDK’s retries: a TransientError, retried by the state machine; the alert goes out once', async () => {
    const a = await account('-6200', '100'); // WARNING
    const topics = notifier;
    let failures = 1;
    deps.notifier = {
      notify: async (channel, message) => {
        if (failures-- > 0) throw sdkError('InternalErrorException', 500, 'server');
        return topics.notify(channel, message);
      },
    };
    const run = await runEscalation(
      a,
      steps(async (p) => {
        if (p.action === 'check') await setPrice(`XYZ${n}`, '130'); // recovers
      }),
    );
    expect(run.error ?? run.status).toBe('SUCCEEDED');
    expect(run.retries).toEqual([{ state: 'Alert', error: 'TransientError' }]);
    expect(notifier.kinds()).toEqual(['alerts:alert', 'alerts:resolved']);
    const audit = (await deps.actions.listAudit(a.accountId)).map((e) => e.action).reverse();
    expect(audit).toEqual(['alert', 'resolved']);
  });

  it('DynamoDB throttled after the deleverage is published: retried; the same event (same id and order keys) again, never a new plan', async () => {
    const a = await account('-6500', '100'); // CRITICAL
    const actions = deps.actions;
    let throttles = 2;
    deps.actions = Object.assign(Object.create(actions) as ActionsRepository, {
      markPublished: async (accountId: string, incidentId: string, step: string) => {
        if (step === 'deleverage' && throttles-- > 0)
          throw sdkError('ProvisionedThroughputExceededException', 400, 'client');
        return actions.markPublished(accountId, incidentId, step);
      },
    });
    const run = await runEscalation(
      a,
      steps(async (p) => {
        if (p.action === 'check') await brokerFills();
      }),
    );
    expect(run.error ?? run.status).toBe('SUCCEEDED');
    expect(run.retries).toEqual([
      { state: 'Deleverage', error: 'TransientError' },
      { state: 'Deleverage', error: 'TransientError' },
    ]);
    const requests = publisher.events.filter((e) => e.detailType === 'DeleverageRequested');
    expect(requests).toHaveLength(3); // published, then republished by each retry …
    expect(new Set(requests.map((e) => e.detail.eventId)).size).toBe(1); // … as the same event
    expect(notifier.kinds()).toEqual(['alerts:alert', 'alerts:deleverage', 'alerts:resolved']);
  });

  it('the liquidation’s page failing after the orders went out is retried, never skipped (and the orders not re-sent)', async () => {
    const a = await account('-9000', '100'); // 1,000 / 2,500 = 0.4 → LIQUIDATION
    const topics = notifier;
    let failures = 1;
    deps.notifier = {
      notify: async (channel, message) => {
        if (message.kind === 'liquidation' && failures-- > 0)
          throw sdkError('ThrottledException', 429, 'client');
        return topics.notify(channel, message);
      },
    };
    const run = await runEscalation(a, steps());
    expect(run.error ?? run.status).toBe('SUCCEEDED');
    expect(run.path.slice(-2)).toEqual(['Liquidate', 'Liquidation requested']);
    expect(run.retries).toEqual([{ state: 'Liquidate', error: 'TransientError' }]);
    expect(publisher.events.filter((e) => e.detailType === 'LiquidationRequested')).toHaveLength(1);
    expect(notifier.kinds().filter((k) => k.endsWith(':liquidation'))).toEqual([
      'alerts:liquidation',
      'pages:liquidation',
    ]);
    const audit = (await deps.actions.listAudit(a.accountId)).map((e) => e.action);
    expect(audit.filter((x) => x === 'liquidate')).toHaveLength(1);
  });

  it('a PermanentError (invalid stored settings) is not retried: the catch path pages, audits and records the attempt', async () => {
    const a = await account('-6200', '100'); // WARNING
    await deps.settings.put('escalation', { waitSeconds: 'soon' });
    try {
      const run = await runEscalation({ ...a, attempt: 0 } as never, steps());
      expect(run.status).toBe('FAILED');
      expect(run.retries).toEqual([]);
      expect(run.path).toEqual(['Alert', 'Page on-call about the failure', 'Escalation failed']);
      expect(notifier.kinds()).toEqual(['alerts:failure', 'pages:failure']);
      expect(notifier.sent[1]!.n.message).toContain('PermanentError');
      const audit = await deps.actions.listAudit(a.accountId);
      expect(audit.map((e) => e.action)).toEqual(['escalation-failed']);
      expect(audit[0]!.details).toMatchObject({ attempt: 0 });
      expect(await deps.actions.getStep(a.accountId, a.incidentId, 'failed-a0')).toMatchObject({
        status: 'published',
      });
    } finally {
      await deps.settings.put('escalation', {});
    }
  });

  it('a failed incident is restarted by its next level change, and no step runs twice', async () => {
    const a = await account('-6500', '100'); // CRITICAL
    const runs = new Map<string, Promise<LocalRun>>();
    let breakSettings = true;
    const run = steps(async (p) => {
      // After the deleverage, the stored settings break (a bad PUT /config): the re-check fails for good.
      if (p.action === 'check' && breakSettings) await deps.settings.put('escalation', { waitSeconds: -1 });
      if (p.action === 'check' && !breakSettings) await brokerFills();
    });
    const sfn = {
      send: async (command: StartExecutionCommand) => {
        const name = command.input.name!;
        if (runs.has(name)) throw new ExecutionAlreadyExists({ message: `${name} exists`, $metadata: {} });
        runs.set(name, runEscalation(JSON.parse(command.input.input!), run));
        return {};
      },
    };
    const state = (await deps.repo.getRiskState(a.accountId))!;
    const levelChanged = (to: string) => ({
      schemaVersion: '1',
      eventId: `e-${to}`,
      accountId: a.accountId,
      occurredAt: new Date().toISOString(),
      from: 'SAFE',
      to,
      marginRatio: state.marginRatio,
      equity: '3500',
      maintenanceRequirement: '2500',
      excessLiquidity: '1000',
      callMove: null,
      zeroEquityMove: null,
      incidentId: a.incidentId,
      staleInstruments: [],
    });
    const failedAttempts = (accountId: string, incidentId: string) =>
      countFailedAttempts((x, y, step) => deps.actions.getStep(x, y, step), accountId, incidentId);
    const start = (to: string) =>
      startEscalation(levelChanged(to), sfn as never, 'local', { failedAttempts });

    try {
      const first = await start('CRITICAL');
      expect(first).toMatchObject({ started: true });
      const failed = await runs.get(first.name!)!;
      expect(failed.status).toBe('FAILED');
      expect(failed.path.slice(-3)).toEqual([
        'Re-check after deleverage',
        'Page on-call about the failure',
        'Escalation failed',
      ]);
      // The settings are fixed; the next level change of the incident starts attempt 1.
      breakSettings = false;
      await deps.settings.put('escalation', {});
      const restart = await start('LIQUIDATION');
      expect(restart).toMatchObject({ started: true, name: `${first.name}-r1` });
      const second = await runs.get(restart.name!)!;
      expect(second.error ?? second.status).toBe('SUCCEEDED');
      expect(second.path.slice(0, 3)).toEqual(['Alert', 'After first look', 'Deleverage']);
      expect(await start('CRITICAL')).toMatchObject({
        started: false,
        reason: 'already escalating this incident',
      });
    } finally {
      await deps.settings.put('escalation', {});
    }
    // Each thing once across both attempts: one plan, one alert, one deleverage notice, one failure page.
    expect(publisher.events.filter((e) => e.detailType === 'DeleverageRequested')).toHaveLength(1);
    expect(notifier.kinds()).toEqual([
      'alerts:alert',
      'alerts:deleverage',
      'alerts:failure',
      'pages:failure',
      'alerts:resolved',
    ]);
    const audit = (await deps.actions.listAudit(a.accountId)).map((e) => e.action).reverse();
    expect(audit).toEqual(['alert', 'deleverage', 'escalation-failed', 'resolved']);
  });
});

describe('escalation start', () => {
  const sfn = mockClient(SFNClient);
  const detail = (to: string, incidentId: string | null = 'A1:risk:2026-01-01T00:00:00.000Z') => ({
    schemaVersion: '1',
    eventId: 'e',
    accountId: 'A1',
    occurredAt: '2026-01-01T00:00:00.000Z',
    from: 'SAFE',
    to,
    marginRatio: '1.4',
    equity: '1',
    maintenanceRequirement: '1',
    excessLiquidity: '0',
    callMove: null,
    zeroEquityMove: null,
    incidentId,
    staleInstruments: [],
  });

  it('starts one execution per incident; a duplicate start is a no-op', async () => {
    sfn.reset();
    sfn
      .on(StartExecutionCommand)
      .resolvesOnce({ executionArn: 'arn' })
      .rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    const first = await startEscalation(detail('CRITICAL'), new SFNClient({}), 'arn:sm');
    const second = await startEscalation(detail('LIQUIDATION'), new SFNClient({}), 'arn:sm');
    expect(first).toMatchObject({ started: true });
    expect(second).toMatchObject({
      started: false,
      reason: 'already escalating this incident',
      name: first.name,
    });
    const input = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(input.name).toMatch(/^A1-[0-9a-f]{32}$/);
    expect(JSON.parse(input.input!)).toEqual({
      accountId: 'A1',
      incidentId: 'A1:risk:2026-01-01T00:00:00.000Z',
      attempt: 0,
    });
  });

  it('ignores SAFE, and rejects a malformed event (it goes to the rule’s dead-letter queue)', async () => {
    expect(await startEscalation(detail('SAFE', null), new SFNClient({}), 'arn:sm')).toMatchObject({
      started: false,
    });
    await expect(startEscalation({ accountId: 'A1' }, new SFNClient({}), 'arn:sm')).rejects.toThrow();
  });
});
