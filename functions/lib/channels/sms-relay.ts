import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { z } from 'zod';
import { e164 } from '../../../shared/notify/policy.ts';
import {
  PermanentDeliveryError,
  RetryableDeliveryError,
  type ChannelSender,
  type Delivery,
} from './delivery.ts';

/** What a dispatcher asks the SMS function (functions/sms) to send. */
export const smsRequestSchema = z
  .object({
    alertId: z.string().min(1),
    route: z.string().min(1),
    severity: z.enum(['info', 'warning', 'critical']),
    to: e164,
    text: z.string().min(1).max(1600),
  })
  .strict();
export type SmsRequest = z.output<typeof smsRequestSchema>;

/** The SMS function's answer: sent, or the provider's failure, classified as the sender classified it. */
export type SmsResult =
  { ok: true } | { ok: false; retryable: boolean; message: string; retryAfterMs?: number };

/**
 * SMS through the one function allowed to publish to phone numbers: a synchronous invoke, the answer
 * turned back into the delivery errors deliverWithRetries understands (so retries, holds and dead
 * letters work as for any channel). A failed invoke (throttled, the function erroring) is retryable.
 */
export class LambdaSmsSender implements ChannelSender {
  constructor(
    private readonly client: Pick<LambdaClient, 'send'>,
    private readonly functionName: string,
  ) {}

  async send(d: Delivery): Promise<void> {
    const request: SmsRequest = {
      alertId: d.alertId,
      route: d.route,
      severity: d.severity,
      to: d.to,
      text: d.text,
    };
    let out;
    try {
      out = await this.client.send(
        new InvokeCommand({ FunctionName: this.functionName, Payload: JSON.stringify(request) }),
      );
    } catch (e) {
      const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      const status = err.$metadata?.httpStatusCode ?? 0;
      const message = `sms function: ${err.name ?? 'error'} ${err.message ?? ''}`.trim();
      // A missing function or a denied invoke is a deployment fault: permanent. The rest is worth a retry.
      if (status >= 400 && status < 500 && status !== 429) throw new PermanentDeliveryError(message);
      throw new RetryableDeliveryError(message);
    }
    if (out.FunctionError) throw new RetryableDeliveryError(`sms function failed: ${out.FunctionError}`);
    const result = JSON.parse(new TextDecoder().decode(out.Payload)) as SmsResult;
    if (result.ok) return;
    throw result.retryable
      ? new RetryableDeliveryError(result.message, result.retryAfterMs)
      : new PermanentDeliveryError(result.message);
  }
}
