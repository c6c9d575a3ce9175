import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runStep, type EscalationDeps } from '../../functions/escalation/steps.ts';
import { ActionsRepository, SettingsRepository } from '../../functions/lib/actions-repository.ts';
import { BandRepository } from '../../functions/lib/bands-repository.ts';
import { DynamoWaitStore, wakeEscalation } from '../../functions/lib/escalation-waits.ts';
import { evaluateAccount } from '../../functions/lib/evaluate-account.ts';
import { RiskRepository } from '../../functions/lib/risk-repository.ts';
import { Tally } from '../../functions/lib/telemetry.ts';
import { escalationDefinition, LocalCallbacks, startEscalationRun } from '../../local/escalation-runner.ts';
import { createTables, localClient } from '../../local/tables.ts';
import { DEFAULT_PIPELINE_CONFIG } from '../../shared/pipeline/config.ts';
import { CapturedDeadLetter, CapturedNotifier, CapturedPublisher } from '../helpers/capture.ts';
import { testDynamoDb, type TestDynamoDb } from '../helpers/dynamodb.ts';

/**
 * Escalation waits end on events: the synthesized state machine (aws-local-stepfunctions) with the real
 * step handler on DynamoDB Local, its waits left to the callbacks alone (no local backstop), so an
 * execution moves on only when the account's level change wakes it, or when it changed before it waited.
 */

let db: TestDynamoDb;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let tables: Awaited<ReturnType<typeof createTables>>;
let deps: EscalationDeps & { waits: DynamoWaitStore };
let callbacks: LocalCallbacks;
let n = 0;

beforeAll(async () => {
  db = await testDynamoDb();
  client = localClient(db.endpoint);
  doc = DynamoDBDocumentClient.from(client);
  tables = await createTables(client, db.prefix('wake'));
  escalationDefinition();
}, 180_000);
afterAll(async () => db?.stop());

beforeEach(() => {
  const repo = new RiskRepository(client, tables);
  callbacks = new LocalCallbacks();
  deps = {
    store: repo,
    repo,
    bands: new BandRepository(client, tables.bands, 2),
    publisher: new CapturedPublisher(),
    deadLetter: new CapturedDeadLetter(),
    config: DEFAULT_PIPELINE_CONFIG,
    telemetry: new Tally(),
    actions: new ActionsRepository(client, tables.actions),
    settings: new SettingsRepository(client, tables.settings),
    notifier: new CapturedNotifier(),
    waits: new DynamoWaitStore(client, tables.actions),
  };
});

const put = (table: keyof typeof tables, item: Record<string, unknown>) =>
  doc.send(new PutCommand({ TableName: tables[table], Item: item }));
const setPrice = (instrument: string, price: string) =>
  put('prices', { instrument, price, priceTime: new Date().toISOString() });

async function account(cash: string, price: string) {
  const accountId = `WAKE-${++n}`;
  const instrument = `W${n}`;
  await put('accounts', { accountId, model: 'reg-t', cash });
  await put('positions', { accountId, instrument, quantity: '100', avgCost: price });
  await setPrice(instrument, price);
  await evaluateAccount(accountId, deps);
  const incidentId = (await deps.repo.getRiskState(accountId))!.tracker.incident!.id;
  return { accountId, incidentId, instrument };
}

const until = async (what: () => Promise<boolean> | boolean, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('escalation waits end on the account’s level change, not on a clock', () => {
  it('waits after the alert until the level changes, then deleverages at once', async () => {
    const a = await account('-6200', '100'); // 3,800 / 2,500 = 1.52 → WARNING
    const actions: string[] = [];
    const execution = startEscalationRun(
      a,
      async (p) => {
        actions.push((p as { action: string }).action);
        return runStep(p, deps);
      },
      0,
      { callbacks, callbackMs: Infinity },
    );
    // The execution is parked in its wait, its token stored under the account.
    await until(async () => (await deps.waits.get(a.accountId)) !== null);
    const waiter = (await deps.waits.get(a.accountId))!;
    expect(waiter).toMatchObject({ incidentId: a.incidentId, level: 'WARNING' });
    expect(callbacks.pending).toEqual([waiter.token]);
    await new Promise((r) => setTimeout(r, 200));
    expect(actions).toEqual(['alert', 'wait']); // nothing polls

    // The price falls: the evaluation publishes RiskLevelChanged; the waker (here called as the rule would) ends the wait.
    await setPrice(a.instrument, '97'); // 3,500 / 2,425 = 1.44 → CRITICAL
    await evaluateAccount(a.accountId, deps);
    expect(await wakeEscalation(a.accountId, 'RiskLevelChanged → CRITICAL', { ...deps, callbacks })).toBe(
      true,
    );
    expect(await deps.waits.get(a.accountId)).toBeNull();

    // It deleverages, then waits again (its orders working: at most waitSeconds), with a new token.
    await until(async () => {
      const next = await deps.waits.get(a.accountId);
      return next !== null && next.token !== waiter.token;
    });
    expect((await deps.waits.get(a.accountId))!.level).toBe('CRITICAL');
    execution.abort();
    const run = await execution.done;
    expect(run.path.slice(0, 7)).toEqual([
      'Alert',
      'After first look',
      'Wait after alert',
      'Re-check after alert',
      'After alert',
      'Deleverage',
      'Wait after deleverage',
    ]);
    expect(actions.slice(0, 4)).toEqual(['alert', 'wait', 'check', 'deleverage']);
  });

  it('a level change between the re-check and the wait is not missed: the wait ends before it began', async () => {
    const a = await account('-6200', '100'); // WARNING
    const actions: string[] = [];
    const execution = startEscalationRun(
      a,
      async (p) => {
        const action = (p as { action: string }).action;
        actions.push(action);
        // The level changes after the alert's re-check, before the wait stores its token: no waker could
        // have found a token for that change.
        if (action === 'wait' && actions.filter((x) => x === 'wait').length === 1) {
          await setPrice(a.instrument, '60'); // 0 equity vs 1,500: LIQUIDATION
          await evaluateAccount(a.accountId, deps);
        }
        return runStep(p, deps);
      },
      0,
      { callbacks, callbackMs: Infinity },
    );
    const run = await execution.done;
    expect(run.error ?? run.status).toBe('SUCCEEDED');
    expect(run.failures).toEqual([{ state: 'Wait after alert', error: 'AccountChanged' }]);
    expect(run.path).toEqual([
      'Alert',
      'After first look',
      'Wait after alert',
      'Re-check after alert',
      'After alert',
      'Liquidate',
      'Liquidation requested',
    ]);
    expect(await deps.waits.get(a.accountId)).toBeNull();
  });

  it('a stale token (its wait already over) is dropped, and the next wait’s token is left alone', async () => {
    const a = await account('-6200', '100');
    await deps.waits.put({
      accountId: a.accountId,
      incidentId: a.incidentId,
      token: 'gone',
      level: 'WARNING',
      since: new Date().toISOString(),
    });
    expect(await wakeEscalation(a.accountId, 'test', { ...deps, callbacks })).toBe(false);
    expect(await deps.waits.get(a.accountId)).toBeNull();
    await deps.waits.put({
      accountId: a.accountId,
      incidentId: a.incidentId,
      token: 'newer',
      level: 'WARNING',
      since: new Date().toISOString(),
    });
    await deps.waits.clear(a.accountId, 'gone');
    expect((await deps.waits.get(a.accountId))?.token).toBe('newer');
  });
});
