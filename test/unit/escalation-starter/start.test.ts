import {
  ExecutionAlreadyExists,
  InvalidArn,
  SFNClient,
  SFNServiceException,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ESCALATION_START_LIMITS } from '../../../functions/escalation-starter/limits.ts';
import {
  backoffDelay,
  countFailedAttempts,
  isRetryableStartError,
  startEscalation,
} from '../../../functions/escalation-starter/start.ts';
import { riskDetail, throttled } from './fixtures.ts';

const sfn = mockClient(SFNClient);
let sleeps: number[];
const options = () => ({ sleep: async (ms: number) => void sleeps.push(ms), random: () => 0.5 });

beforeEach(() => {
  sfn.reset();
  sleeps = [];
});

describe('startEscalation', () => {
  it('throttled twice, then started: backs off with jitter in between', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(throttled())
      .resolves({ executionArn: 'arn:exec' });
    const result = await startEscalation(riskDetail(), new SFNClient({}), 'arn:sm', options());
    expect(result).toMatchObject({ started: true, attempts: 3 });
    expect(result.name).toMatch(/^A1-[0-9a-f]{32}$/);
    // random 0.5 of min(maxDelay, 100 · 2^(n−1)): 50 ms, then 100 ms
    expect(sleeps).toEqual([50, 100]);
    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.args[0].input.name))).toEqual(new Set([result.name]));
    expect(JSON.parse(calls[0]!.args[0].input.input!)).toEqual({
      accountId: 'A1',
      incidentId: 'A1:risk:1',
      attempt: 0,
    });
  });

  it('throttled past the bound: throws after maxAttempts calls, so the message returns to its queue', async () => {
    sfn.on(StartExecutionCommand).rejects(throttled());
    await expect(startEscalation(riskDetail(), new SFNClient({}), 'arn:sm', options())).rejects.toThrow(
      'Rate exceeded',
    );
    const { maxAttempts, maxDelayMs } = ESCALATION_START_LIMITS;
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(maxAttempts);
    expect(sleeps).toEqual([50, 100, 200, 400, 800]);
    expect(Math.max(...sleeps)).toBeLessThanOrEqual(maxDelayMs);
  });

  it('ExecutionAlreadyExists is a no-op, also when a retry finds the lost first call’s execution', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    expect(await startEscalation(riskDetail(), new SFNClient({}), 'arn:sm', options())).toMatchObject({
      started: false,
      reason: 'already escalating this incident',
      attempts: 1,
    });
    sfn
      .reset()
      .on(StartExecutionCommand)
      .rejectsOnce(throttled())
      .rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    expect(await startEscalation(riskDetail(), new SFNClient({}), 'arn:sm', options())).toMatchObject({
      started: false,
      attempts: 2,
    });
  });

  it('retries 5xx and service unavailable; anything else is thrown at once', async () => {
    const unavailable = new SFNServiceException({
      name: 'ServiceUnavailable',
      $fault: 'server',
      $metadata: { httpStatusCode: 503 },
      message: 'unavailable',
    });
    sfn.on(StartExecutionCommand).rejectsOnce(unavailable).resolves({ executionArn: 'arn:exec' });
    expect(await startEscalation(riskDetail(), new SFNClient({}), 'arn:sm', options())).toMatchObject({
      started: true,
      attempts: 2,
    });
    sfn
      .reset()
      .on(StartExecutionCommand)
      .rejects(new InvalidArn({ message: 'bad arn', $metadata: {} }));
    await expect(startEscalation(riskDetail(), new SFNClient({}), 'arn:sm', options())).rejects.toThrow(
      'bad arn',
    );
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
    expect(sleeps).toEqual([50]);
  });

  it('SAFE or no incident: nothing to start; a malformed detail throws without a call', async () => {
    expect(await startEscalation(riskDetail('A1', 'SAFE', null), new SFNClient({}), 'arn:sm')).toMatchObject({
      started: false,
      attempts: 0,
    });
    await expect(startEscalation({ accountId: 'A1' }, new SFNClient({}), 'arn:sm')).rejects.toThrow();
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('classifies errors and caps the backoff', () => {
    expect(isRetryableStartError(throttled())).toBe(true);
    expect(isRetryableStartError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isRetryableStartError({ name: 'X', $metadata: { httpStatusCode: 500 } })).toBe(true);
    expect(isRetryableStartError(new InvalidArn({ message: 'bad', $metadata: {} }))).toBe(false);
    expect(isRetryableStartError(null)).toBe(false);
    expect(backoffDelay(10, 100, 1_600, () => 0.999)).toBe(1_598);
    expect(backoffDelay(1, 100, 1_600, () => 0)).toBe(0);
  });

  it('after failed attempts at the incident, starts the next attempt under its own name, up to maxRestarts', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec' });
    const first = await startEscalation(riskDetail(), new SFNClient({}), 'arn:sm', {
      ...options(),
      failedAttempts: async () => 0,
    });
    const restart = await startEscalation(riskDetail(), new SFNClient({}), 'arn:sm', {
      ...options(),
      failedAttempts: async (accountId, incidentId) =>
        accountId === 'A1' && incidentId === 'A1:risk:1' ? 2 : 0,
    });
    expect(first.name).toMatch(/^A1-[0-9a-f]{32}$/);
    expect(restart).toMatchObject({ started: true, name: `${first.name}-r2` });
    expect(restart.reason).toContain('restarted after 2 failed attempt(s)');
    const inputs = sfn.commandCalls(StartExecutionCommand).map((c) => JSON.parse(c.args[0].input.input!));
    expect(inputs.map((i) => i.attempt)).toEqual([0, 2]);
    // Past the bound: no start, left to people (each failure was paged).
    const { maxRestarts } = ESCALATION_START_LIMITS;
    expect(
      await startEscalation(riskDetail(), new SFNClient({}), 'arn:sm', {
        ...options(),
        failedAttempts: async () => maxRestarts + 1,
      }),
    ).toMatchObject({ started: false, name: null, attempts: 0 });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(2);
    // A failed read of the attempts throws: the message is retried, never started under a wrong name.
    await expect(
      startEscalation(riskDetail(), new SFNClient({}), 'arn:sm', {
        ...options(),
        failedAttempts: async () => {
          throw new Error('table unavailable');
        },
      }),
    ).rejects.toThrow('table unavailable');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(2);
  });

  it('counts the failed-attempt records in a row, reading at most maxRestarts + 1', async () => {
    const stored = new Set(['A1|I|failed-a0', 'A1|I|failed-a1', 'A1|I|failed-a3']);
    const reads: string[] = [];
    const getStep = async (a: string, i: string, step: string) => {
      reads.push(step);
      return stored.has(`${a}|${i}|${step}`) ? { step } : null;
    };
    expect(await countFailedAttempts(getStep, 'A1', 'I')).toBe(2);
    expect(reads).toEqual(['failed-a0', 'failed-a1', 'failed-a2']);
    expect(await countFailedAttempts(getStep, 'A1', 'other')).toBe(0);
    const all = async () => ({});
    expect(await countFailedAttempts(all, 'A1', 'I')).toBe(ESCALATION_START_LIMITS.maxRestarts + 1);
  });
});
