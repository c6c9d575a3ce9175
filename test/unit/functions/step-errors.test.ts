import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { InternalErrorException, NotFoundException } from '@aws-sdk/client-sns';
import { SFNServiceException } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PermanentDeliveryError, RetryableDeliveryError } from '../../../functions/lib/channels/delivery.ts';
import { BandConflict } from '../../../functions/lib/bands-repository.ts';
import { VersionConflict } from '../../../functions/lib/risk-repository.ts';
import {
  classified,
  classifyStepError,
  isPermanentError,
  isTransientError,
  PermanentError,
  TransientError,
} from '../../../functions/lib/step-errors.ts';
import { InputError, RetryLaterError } from '../../../shared/errors.ts';

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });
const nameOf = (e: unknown) => (classifyStepError(e) as Error).name;

describe('step error classes', () => {
  it('throttling, 5xx, dropped connections, exhausted conflicts and channels saying "not now" are transient', () => {
    const transient = [
      new InternalErrorException({ message: 'SNS down', ...meta(500) }),
      new SFNServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        message: 'Rate exceeded',
        ...meta(400),
      }),
      Object.assign(new Error('throughput'), {
        name: 'ProvisionedThroughputExceededException',
        $fault: 'client',
      }),
      Object.assign(new Error('kms'), { name: 'KMSThrottlingException' }),
      Object.assign(new Error('secrets'), { name: 'InternalServiceError' }),
      Object.assign(new Error('reset'), { code: 'ECONNRESET' }),
      Object.assign(new TypeError('fetch failed'), {
        cause: Object.assign(new Error(), { code: 'ETIMEDOUT' }),
      }),
      { name: 'Whatever', $metadata: { httpStatusCode: 503 } },
      { name: 'Whatever', $retryable: { throttling: true }, $fault: 'client' },
      new TransactionCanceledException({
        message: 'cancelled',
        ...meta(400),
        CancellationReasons: [{ Code: 'None' }, { Code: 'ThrottlingError' }],
      }),
      new VersionConflict('A1', 3),
      new BandConflict('A1'),
      new RetryableDeliveryError('telegram answered 429', 1000),
      new RetryLaterError('alert-memory-busy', 'another alert of A1 is being delivered'),
      new TransientError('X', 'already classified'),
    ];
    for (const e of transient) {
      expect(isTransientError(e), String((e as Error).name)).toBe(true);
      expect(isPermanentError(e), String((e as Error).name)).toBe(false);
      expect(nameOf(e), String((e as Error).name)).toBe('TransientError');
    }
  });

  it('invalid input or data, final refusals and AWS client errors are permanent', () => {
    const permanent = [
      InputError.single('input.pageId', 'required'),
      z.object({ a: z.number() }).safeParse({ a: 'x' }).error!,
      new PermanentDeliveryError('telegram answered 403'),
      new NotFoundException({ message: 'no topic', ...meta(404) }),
      Object.assign(new Error('denied'), { name: 'AccessDeniedException', $fault: 'client', ...meta(403) }),
      new PermanentError('AccountNotFound', 'gone'),
    ];
    for (const e of permanent) {
      expect(isPermanentError(e), (e as Error).name).toBe(true);
      expect(nameOf(e), (e as Error).name).toBe('PermanentError');
    }
  });

  it('anything else keeps its name (retried a few times by the workflows): bugs, races, unknown errors', () => {
    const others = [
      new TypeError('cannot read properties of undefined'),
      new Error('storm state kept changing'),
      new ConditionalCheckFailedException({ message: 'condition', ...meta(400) }),
      new TransactionCanceledException({
        message: 'cancelled',
        ...meta(400),
        CancellationReasons: [{ Code: 'ConditionalCheckFailed' }],
      }),
    ];
    for (const e of others) {
      expect(classifyStepError(e)).toBe(e);
      expect(isTransientError(e) || isPermanentError(e)).toBe(false);
    }
    expect(classifyStepError('a string')).toBe('a string');
  });

  it('the classified error carries the original name as its code, first in the message, and as its cause', async () => {
    const original = new InternalErrorException({ message: 'SNS down', ...meta(500) });
    const e = classifyStepError(original) as TransientError;
    expect(e).toBeInstanceOf(TransientError);
    expect(e.code).toBe('InternalErrorException');
    expect(e.message).toBe('InternalErrorException: SNS down');
    expect(e.cause).toBe(original);
    await expect(
      classified(async () => {
        throw InputError.single('input.action', 'invalid');
      }),
    ).rejects.toMatchObject({
      name: 'PermanentError',
      message: 'InputError: input.action: invalid [invalid-input]',
    });
    expect(await classified(async () => 42)).toBe(42);
    // an error's own stable code stays in the message
    expect(
      (classifyStepError(new RetryLaterError('secret-unavailable', 'telegram token unreadable')) as Error)
        .message,
    ).toBe('RetryLaterError: telegram token unreadable [secret-unavailable]');
  });
});
