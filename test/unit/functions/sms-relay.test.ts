import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  deliverWithRetries,
  PermanentDeliveryError,
  RetryableDeliveryError,
  type ChannelSender,
  type Delivery,
} from '../../../functions/lib/channels/delivery.ts';
import { LambdaSmsSender } from '../../../functions/lib/channels/sms-relay.ts';
import { policyFallback } from '../../../functions/lib/notifications.ts';
import { readPolicy } from '../../../functions/lib/policy-setting.ts';
import { relaySms } from '../../../functions/sms/handler.ts';
import { ALERT_CATEGORIES } from '../../../shared/notify/policy.ts';

const sms: Delivery = {
  alertId: 'al-1',
  route: 'oncall-sms',
  channel: 'sms',
  to: '+447700900123',
  severity: 'critical',
  subject: 'LIQUIDATION A1',
  text: 'MG LIQUIDATION A1',
};

const payload = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe('SMS through the one SMS function', () => {
  const lambda = mockClient(LambdaClient);
  afterEach(() => lambda.reset());

  it('invokes the SMS function with the recipient and text, and takes its answer', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload({ ok: true }) as never });
    await new LambdaSmsSender(new LambdaClient({}), 'mg-sms').send(sms);
    const call = lambda.commandCalls(InvokeCommand)[0]!.args[0].input;
    expect(call.FunctionName).toBe('mg-sms');
    expect(JSON.parse(call.Payload as string)).toEqual({
      alertId: 'al-1',
      route: 'oncall-sms',
      severity: 'critical',
      to: '+447700900123',
      text: 'MG LIQUIDATION A1',
    });
  });

  it('keeps the provider’s classification: permanent is not retried, retryable is (with its wait)', async () => {
    const sender = new LambdaSmsSender(new LambdaClient({}), 'mg-sms');
    lambda.on(InvokeCommand).resolves({
      Payload: payload({ ok: false, retryable: false, message: 'sns sms: InvalidParameter' }) as never,
    });
    await expect(sender.send(sms)).rejects.toBeInstanceOf(PermanentDeliveryError);
    lambda.on(InvokeCommand).resolves({
      Payload: payload({ ok: false, retryable: true, message: 'throttled', retryAfterMs: 50 }) as never,
    });
    await expect(sender.send(sms)).rejects.toMatchObject({
      name: 'RetryableDeliveryError',
      retryAfterMs: 50,
    });
    // The function itself failing, or its invoke throttled: worth another try.
    lambda.on(InvokeCommand).resolves({ FunctionError: 'Unhandled', Payload: payload({}) as never });
    await expect(sender.send(sms)).rejects.toBeInstanceOf(RetryableDeliveryError);
    lambda.on(InvokeCommand).rejects(
      Object.assign(new Error('Rate exceeded'), {
        name: 'TooManyRequestsException',
        $metadata: { httpStatusCode: 429 },
      }),
    );
    await expect(sender.send(sms)).rejects.toBeInstanceOf(RetryableDeliveryError);
    // Not allowed to invoke, or no such function: a deployment fault, permanent.
    lambda.on(InvokeCommand).rejects(
      Object.assign(new Error('denied'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const outcome = await deliverWithRetries(sender, sms, { sleep: async () => {} });
    expect(outcome).toMatchObject({ status: 'failed', attempts: 1, permanent: true });
  });

  it('the SMS function publishes only valid E.164 numbers and answers, never throws', async () => {
    const sent: Delivery[] = [];
    const ok: ChannelSender = { send: async (d) => void sent.push(d) };
    expect(
      await relaySms(
        { alertId: 'al-1', route: 'oncall-sms', severity: 'critical', to: sms.to, text: sms.text },
        ok,
      ),
    ).toEqual({ ok: true });
    expect(sent[0]).toMatchObject({ to: '+447700900123', text: 'MG LIQUIDATION A1', channel: 'sms' });
    const refused = await relaySms(
      { alertId: 'a', route: 'r', severity: 'critical', to: 'arn:aws:sns:eu-west-1:1:topic', text: 'x' },
      ok,
    );
    expect(refused).toMatchObject({ ok: false, retryable: false });
    // The refusal names the field, not the value.
    expect(JSON.stringify(refused)).not.toContain('arn:aws:sns');
    expect(sent).toHaveLength(1);
    const failing: ChannelSender = {
      send: async () => {
        throw new RetryableDeliveryError('sns sms: Throttling', 1000);
      },
    };
    expect(
      await relaySms({ alertId: 'a', route: 'r', severity: 'info', to: '+15555550123', text: 'x' }, failing),
    ).toEqual({
      ok: false,
      retryable: true,
      message: 'sns sms: Throttling',
      retryAfterMs: 1000,
    });
  });
});

describe('the default notification policy is a secret', () => {
  const sm = mockClient(SecretsManagerClient);
  afterEach(() => sm.reset());
  const empty = { getRaw: async () => undefined };

  it('read from Secrets Manager only while no policy is stored', async () => {
    const policy = {
      routes: [{ name: 'desk', channel: 'sms', phoneNumber: '+447700900123' }],
      rules: [{ categories: [...ALERT_CATEGORIES], routes: ['desk'] }],
    };
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(policy) });
    const fallback = policyFallback({ NOTIFICATION_POLICY_SECRET_NAME: 'mg/policy-a' });
    expect((await readPolicy(empty, fallback)).routes).toEqual([expect.objectContaining(policy.routes[0])]);
    expect(sm.commandCalls(GetSecretValueCommand)[0]!.args[0].input.SecretId).toBe('mg/policy-a');
    const stored = {
      getRaw: async () => ({
        routes: [{ name: 'chat', channel: 'webhook' }],
        rules: [{ categories: [...ALERT_CATEGORIES], routes: ['chat'] }],
      }),
    };
    sm.resetHistory();
    expect(
      (await readPolicy(stored, policyFallback({ NOTIFICATION_POLICY_SECRET_NAME: 'mg/policy-b' }))).routes,
    ).toEqual([expect.objectContaining({ name: 'chat', channel: 'webhook' })]);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect((await readPolicy(empty, policyFallback({}))).routes).toEqual([
      expect.objectContaining({ name: 'console', channel: 'websocket' }),
    ]);
  });

  it('a secret that is not JSON is named, its text (contacts) never quoted', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'desk +447700900123 oncall@broker.example' });
    const error = await readPolicy(
      empty,
      policyFallback({ NOTIFICATION_POLICY_SECRET_NAME: 'mg/policy-c' }),
    ).catch((e: Error) => e);
    expect((error as Error).message).toBe('secret mg/policy-c does not hold a JSON notification policy');
  });
});
