import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { ChannelKind } from '../../shared/notify/policy.ts';
import { ActionsRepository, SettingsRepository } from './actions-repository.ts';
import { SesEmailSender } from './channels/aws-senders.ts';
import { LambdaSmsSender } from './channels/sms-relay.ts';
import { PermanentDeliveryError, type ChannelSender } from './channels/delivery.ts';
import { TelegramSender } from './channels/telegram.ts';
import { WebhookSender } from './channels/webhook.ts';
import { Dispatcher, type PagingStarter } from './dispatcher.ts';
import { readEnv, requireEnv } from './env.ts';
import { SnsNotifier } from './notifier.ts';
import { readPolicy } from './policy-setting.ts';
import { NotifyStore } from './notify-store.ts';
import { SqsDeadLetter } from './queues.ts';
import { awsSecrets, type Secrets } from './secrets.ts';
import { logger } from './runtime.ts';

let secrets: Secrets | undefined;
/** The container's secret reader (functions/lib/secrets.ts: cached for minutes, failures never cached). */
export const lambdaSecrets = (): Secrets => (secrets ??= awsSecrets());

/**
 * A secret's string (credentials never sit in environment variables): kept for SECRET_MAX_AGE_SECONDS
 * once read; a failed read (throttled, unreachable) is retried with backoff and never cached.
 */
export function secret(name: string): Promise<string> {
  return lambdaSecrets().get(name);
}

/**
 * The deployment's default notification policy: the JSON in the Secrets Manager secret named by
 * NOTIFICATION_POLICY_SECRET_NAME (contacts never sit in the environment or the template), read only
 * while no policy is stored and kept like any secret; none configured, an empty policy.
 */
export function policyFallback(env: NodeJS.ProcessEnv = process.env): () => Promise<unknown> {
  const name = env.NOTIFICATION_POLICY_SECRET_NAME;
  if (!name) return async () => ({});
  return async () => {
    const text = await secret(name);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // Not the parser's message: it quotes the text, which holds contacts.
      throw new Error(`secret ${name} does not hold a JSON notification policy`);
    }
  };
}

const unconfigured = (what: string): ChannelSender => ({
  send: async () => {
    throw new PermanentDeliveryError(`${what} is not configured for this deployment`);
  },
});

/** The dispatcher as the Lambdas use it: SES, SMS (the SMS function), Telegram and the webhook, SQS dead letters, SFN paging. */
export function awsDispatcher(env: NodeJS.ProcessEnv = process.env): Dispatcher {
  const tables = readEnv(env).tables;
  const dynamodb = new DynamoDBClient({});
  const settings = new SettingsRepository(dynamodb, tables.settings);
  const actions = new ActionsRepository(dynamodb, tables.actions);
  const fallback = policyFallback(env);
  const senders: Record<ChannelKind, ChannelSender> = {
    telegram: env.TELEGRAM_SECRET_NAME
      ? new TelegramSender(() => secret(env.TELEGRAM_SECRET_NAME!))
      : unconfigured('Telegram (telegramSecretName)'),
    email: env.NOTIFICATION_SENDER
      ? new SesEmailSender(new SESv2Client({ maxAttempts: 1 }), env.NOTIFICATION_SENDER)
      : unconfigured('e-mail (notificationSender)'),
    // Through the one function allowed to publish to phone numbers (functions/sms).
    sms: env.SMS_FUNCTION_NAME
      ? new LambdaSmsSender(new LambdaClient({ maxAttempts: 1 }), env.SMS_FUNCTION_NAME)
      : unconfigured('SMS (SMS_FUNCTION_NAME)'),
    webhook: env.WEBHOOK_SECRET_NAME
      ? new WebhookSender(() => secret(env.WEBHOOK_SECRET_NAME!))
      : unconfigured('the chat webhook (webhookSecretName)'),
    // The console hears every notification through the audit trail's alerts channel.
    websocket: { send: async () => {} },
  };
  const sfn = new SFNClient({});
  const paging: PagingStarter | undefined = env.PAGING_STATE_MACHINE_ARN
    ? {
        start: async (pageId) => {
          try {
            await sfn.send(
              new StartExecutionCommand({
                stateMachineArn: env.PAGING_STATE_MACHINE_ARN,
                name: `page-${pageId}`,
                input: JSON.stringify({ pageId }),
              }),
            );
          } catch (e) {
            if (!(e instanceof ExecutionAlreadyExists)) throw e;
          }
        },
      }
    : undefined;
  return new Dispatcher({
    policy: () => readPolicy(settings, fallback),
    store: new NotifyStore(dynamodb, tables.actions),
    senders,
    deadLetter: new SqsDeadLetter(new SQSClient({}), requireEnv('DEAD_LETTER_QUEUE_URL', env)),
    paging,
    audit: (entry) => actions.audit(entry),
    topics:
      env.ALERTS_TOPIC_ARN && env.PAGES_TOPIC_ARN
        ? new SnsNotifier(new SNSClient({}), { alerts: env.ALERTS_TOPIC_ARN, pages: env.PAGES_TOPIC_ARN })
        : undefined,
    log: (record) => logger.info('notification', { ...record }),
    ack: {
      secret: () => secret(requireEnv('ACK_SECRET_NAME', env)),
      baseUrl: requireEnv('ACK_BASE_URL', env),
    },
    now: () => new Date(),
  });
}
