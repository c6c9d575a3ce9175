import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ActionsRepository, SettingsRepository } from '../lib/actions-repository.ts';
import { readEnv, requireEnv } from '../lib/env.ts';
import { lambdaDeps, logger } from '../lib/runtime.ts';
import { acknowledgePage } from '../lib/dispatcher.ts';
import { awsDispatcher, lambdaSecrets, policyFallback } from '../lib/notifications.ts';
import { ackKeyring } from '../lib/secrets.ts';
import { NotifyStore } from '../lib/notify-store.ts';
import { OverviewRepository } from '../lib/overview-repository.ts';
import { IngestRepository } from '../lib/ingest-repository.ts';
import { readPolicy, type PolicyFallback } from '../lib/policy-setting.ts';
import { readSummary } from '../lib/summary-store.ts';
import { cognitoDirectory, cognitoIdentify } from './identity.ts';
import type { ApiDeps } from './routes.ts';
import { route } from './router.ts';

let ackKeys: ReturnType<typeof ackKeyring> | undefined;

export function apiDeps(
  client: DynamoDBClient,
  tables: ReturnType<typeof readEnv>['tables'],
  base: Pick<ApiDeps, 'repo' | 'bands' | 'publisher' | 'stage'>,
  now: () => Date = () => new Date(),
  notify: Pick<ApiDeps['pages'], 'ackSecret'> & { policyFallback?: PolicyFallback } = {
    // The current and the previous signing key: a rotated secret keeps the links already sent valid.
    ackSecret: (token) => (ackKeys ??= ackKeyring(lambdaSecrets(), requireEnv('ACK_SECRET_NAME')))(token),
    policyFallback: policyFallback(),
  },
): ApiDeps {
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const settings = new SettingsRepository(client, tables.settings);
  const actions = new ActionsRepository(client, tables.actions, now);
  const store = new NotifyStore(client, tables.actions);
  return {
    ...base,
    actions,
    pages: {
      acknowledge: (pageId, by) =>
        acknowledgePage({ store, audit: (e) => actions.audit(e), now }, pageId, by),
      ackSecret: notify.ackSecret,
      store,
    },
    notificationPolicy: () => readPolicy(settings, notify.policyFallback),
    now,
    settings,
    overview: new OverviewRepository(client, tables),
    ingest: new IngestRepository(client, tables, undefined, now),
    readSummary: () => readSummary(settings),
    async updateAccount(accountId, fields) {
      const names = Object.keys(fields);
      if (names.length === 0) return;
      await doc.send(
        new UpdateCommand({
          TableName: tables.accounts,
          Key: { accountId },
          UpdateExpression: `SET ${names.map((_, i) => `#f${i} = :v${i}`).join(', ')}`,
          ExpressionAttributeNames: Object.fromEntries(names.map((n, i) => [`#f${i}`, n])),
          ExpressionAttributeValues: Object.fromEntries(names.map((n, i) => [`:v${i}`, fields[n]])),
          ConditionExpression: 'attribute_exists(accountId)',
        }),
      );
    },
    async queryHistory(accountId, limit, start) {
      const out = await doc.send(
        new QueryCommand({
          TableName: tables.riskHistory,
          KeyConditionExpression: 'accountId = :a',
          ExpressionAttributeValues: { ':a': accountId },
          ScanIndexForward: false,
          Limit: limit,
          ExclusiveStartKey: start,
        }),
      );
      return { items: out.Items ?? [], next: out.LastEvaluatedKey };
    },
  };
}

let deps: ApiDeps | undefined;
export const handler = async (event: APIGatewayProxyEvent) => {
  if (!deps) {
    const base = lambdaDeps();
    deps = apiDeps(new DynamoDBClient({}), readEnv().tables, {
      repo: base.repo,
      bands: base.bands,
      publisher: base.publisher,
      stage: requireEnv('STAGE'),
    });
    // The person behind a console request: the Cognito user, checked against the console's user pool.
    const pool = process.env.CONSOLE_USER_POOL_ID;
    if (pool) deps.identify = cognitoIdentify(pool, cognitoDirectory(pool));
    let dispatcher: ReturnType<typeof awsDispatcher> | undefined;
    deps.notify = (alert) => (dispatcher ??= awsDispatcher()).dispatch(alert);
  }
  return route(event, deps, (msg, extra) => logger.error(msg, extra as Record<string, unknown>));
};
