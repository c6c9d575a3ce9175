import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { secret } from '../../../functions/lib/notifications.ts';
import { awsSecrets } from '../../../functions/lib/secrets.ts';
import { webhookUrl } from '../../../functions/webhook-forwarder/handler.ts';
import { fakeProvider } from '../../helpers/fake-http.ts';

const sm = mockClient(SecretsManagerClient);
const throttled = () =>
  Object.assign(new Error('Rate exceeded'), {
    name: 'ThrottlingException',
    $metadata: { httpStatusCode: 400 },
  });

beforeEach(() => sm.reset());
afterEach(() => vi.useRealTimers());

describe('secret lookups (Secrets Manager, through Powertools Parameters)', () => {
  it('a throttled lookup is not cached: the next call reads the secret', async () => {
    sm.on(GetSecretValueCommand, { SecretId: 'ack-1' })
      .rejectsOnce(throttled())
      .resolves({ SecretString: 'k1' });
    const first = await secret('ack-1').catch((e: unknown) => e);
    expect(await secret('ack-1')).toBe('k1');
    expect(first).toMatchObject({ name: 'RetryLaterError', code: 'secret-unavailable' });
  });

  it('a success is kept for a while, then read again (a rotated secret is seen)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-24T12:00:00Z'));
    sm.on(GetSecretValueCommand, { SecretId: 'ack-2' }).resolvesOnce({ SecretString: 'k1' }).resolves({
      SecretString: 'k2',
    });
    expect(await secret('ack-2')).toBe('k1');
    vi.setSystemTime(new Date('2026-11-24T12:04:59Z'));
    expect(await secret('ack-2')).toBe('k1');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    vi.setSystemTime(new Date('2026-11-24T12:05:01Z'));
    expect(await secret('ack-2')).toBe('k2');
  });

  it('a secret with no string, or none at all, is an error naming it (and not cached either)', async () => {
    sm.on(GetSecretValueCommand, { SecretId: 'bin' }).resolves({ SecretBinary: new Uint8Array([1]) });
    await expect(secret('bin')).rejects.toThrow(/secret bin has no string/);
    sm.on(GetSecretValueCommand, { SecretId: 'gone' }).rejects(
      new ResourceNotFoundException({ message: 'not found', $metadata: {} }),
    );
    await expect(secret('gone')).rejects.toThrow(/gone/);
  });

  it('the previous version (AWSPREVIOUS) is its own lookup; a secret never rotated has none, asked once a while', async () => {
    sm.on(GetSecretValueCommand, { SecretId: 'ack-3' }).resolves({ SecretString: 'k2' });
    sm.on(GetSecretValueCommand, { SecretId: 'ack-3', VersionStage: 'AWSPREVIOUS' }).resolves({
      SecretString: 'k1',
    });
    sm.on(GetSecretValueCommand, { SecretId: 'ack-4', VersionStage: 'AWSPREVIOUS' }).rejects(
      new ResourceNotFoundException({ message: 'no AWSPREVIOUS', $metadata: {} }),
    );
    const secrets = awsSecrets({ region: 'eu-west-1' });
    expect(await secrets.get('ack-3')).toBe('k2');
    expect(await secrets.previous('ack-3')).toBe('k1');
    expect(await secrets.get('ack-3')).toBe('k2'); // each from its own cache
    expect(await secrets.previous('ack-4')).toBeNull();
    expect(await secrets.previous('ack-4')).toBeNull();
    const previousCalls = sm
      .commandCalls(GetSecretValueCommand)
      .filter((c) => c.args[0].input.VersionStage === 'AWSPREVIOUS');
    expect(previousCalls).toHaveLength(2); // one for ack-3, one for ack-4
  });
});

describe('the webhook forwarder’s URL', () => {
  it('a throttled read is not remembered: the next invocation forwards', async () => {
    process.env.WEBHOOK_SECRET_NAME = 'chat-hook';
    try {
      sm.on(GetSecretValueCommand, { SecretId: 'chat-hook' })
        .rejectsOnce(throttled())
        .resolves({ SecretString: 'https://hooks.example/T1' });
      const first = await webhookUrl().catch((e: unknown) => e);
      expect(await webhookUrl()).toBe('https://hooks.example/T1');
      expect(first).toMatchObject({ code: 'secret-unavailable' });
    } finally {
      delete process.env.WEBHOOK_SECRET_NAME;
    }
  });
});

describe('secret lookups over the wire: the SDK retries a throttled call with backoff', () => {
  it('GetSecretValue throttled twice, then answered: one lookup, three calls', async () => {
    sm.restore();
    const fake = await fakeProvider([
      { status: 400, body: JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }) },
      { status: 400, body: JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }) },
      { status: 200, body: JSON.stringify({ Name: 'hook', SecretString: 'https://hooks.example/x' }) },
    ]);
    try {
      const secrets = awsSecrets({
        endpoint: fake.url,
        region: 'eu-west-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      expect(await secrets.get('hook')).toBe('https://hooks.example/x');
      expect(fake.requests).toHaveLength(3);
      expect(JSON.parse(fake.requests[2]!.body)).toEqual({ SecretId: 'hook' });
    } finally {
      await fake.close();
    }
  });
});
