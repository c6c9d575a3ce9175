import type { SNSEvent } from 'aws-lambda';
import { requireEnv } from '../lib/env.ts';
import { awsSecrets, type Secrets } from '../lib/secrets.ts';
import { forward } from './forward.ts';

let secrets: Secrets | undefined;
/**
 * The webhook URL is a credential, read from Secrets Manager (kept for minutes; a failed read is retried
 * with backoff and never cached, so one throttled call does not break the forwarder until it is recycled).
 */
export async function webhookUrl(): Promise<string> {
  const url = await (secrets ??= awsSecrets()).get(requireEnv('WEBHOOK_SECRET_NAME'));
  if (!url.startsWith('https://')) throw new Error('the webhook secret must hold an https:// URL');
  return url;
}

export const handler = async (event: SNSEvent) => ({ forwarded: await forward(event, await webhookUrl()) });
