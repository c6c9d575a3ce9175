import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ActionsRepository, SettingsRepository } from '../lib/actions-repository.ts';
import { DynamoWaitStore } from '../lib/escalation-waits.ts';
import { readEnv, requireEnv } from '../lib/env.ts';
import { lambdaDeps, withMetrics } from '../lib/runtime.ts';
import { SnsNotifier } from '../lib/notifier.ts';
import { awsDispatcher } from '../lib/notifications.ts';
import { OrdersRepository } from '../lib/orders-repository.ts';
import { runStep, type EscalationDeps } from './steps.ts';

let deps: EscalationDeps | undefined;
function escalationDeps(): EscalationDeps {
  if (deps) return deps;
  const base = lambdaDeps();
  const env = readEnv();
  const client = new DynamoDBClient({});
  deps = {
    ...base,
    actions: new ActionsRepository(client, env.tables.actions),
    settings: new SettingsRepository(client, env.tables.settings),
    notifier: new SnsNotifier(new SNSClient({}), {
      alerts: requireEnv('ALERTS_TOPIC_ARN'),
      pages: requireEnv('PAGES_TOPIC_ARN'),
    }),
    alerts: awsDispatcher(),
    orders: new OrdersRepository(client, env.tables.actions),
    waits: new DynamoWaitStore(client, env.tables.actions),
  };
  return deps;
}

/** One Lambda for every escalation task; the state machine passes the step as `action`. */
export const handler = withMetrics(async (event: unknown) => runStep(event, escalationDeps()));
