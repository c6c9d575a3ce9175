import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SNSEvent } from 'aws-lambda';
import { requireEnv } from '../lib/env.ts';
import { forward } from './forward.ts';

let url: Promise<string> | undefined;
/** The webhook URL is a credential: read from Secrets Manager once per container. */
function webhookUrl(): Promise<string> {
  url ??= new SecretsManagerClient({})
    .send(new GetSecretValueCommand({ SecretId: requireEnv('WEBHOOK_SECRET_NAME') }))
    .then((s) => {
      if (!s.SecretString?.startsWith('https://'))
        throw new Error('the webhook secret must hold an https:// URL');
      return s.SecretString;
    });
  return url;
}

export const handler = async (event: SNSEvent) => ({ forwarded: await forward(event, await webhookUrl()) });
