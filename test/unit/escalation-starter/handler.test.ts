import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { makeStarterHandler, type StarterDeps } from '../../../functions/escalation-starter/handler.ts';
import { ESCALATION_START_LIMITS } from '../../../functions/escalation-starter/limits.ts';
import { Tally } from '../../../functions/lib/telemetry.ts';
import { CapturedDeadLetter } from '../../helpers/capture.ts';
import { rawRecord, riskDetail, startRecord, throttled } from './fixtures.ts';

const sfn = mockClient(SFNClient);
let deadLetter: CapturedDeadLetter;
let telemetry: Tally;
let sleeps: number;
const silent = { info: () => {}, warn: () => {}, error: () => {} };

const handler = (failedAttempts?: StarterDeps['failedAttempts']) =>
  makeStarterHandler((): StarterDeps => ({
    sfn: new SFNClient({}),
    stateMachineArn: 'arn:sm',
    deadLetter,
    telemetry,
    log: silent,
    start: { sleep: async () => void sleeps++, random: () => 0.5 },
    failedAttempts,
  }));

const started = () => sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name!);

beforeEach(() => {
  sfn.reset();
  deadLetter = new CapturedDeadLetter();
  telemetry = new Tally();
  sleeps = 0;
});

describe('escalation starter (SQS batch)', () => {
  it('dead-letters a bad body with the field named, reports the throttled start, starts the others', async () => {
    sfn.on(StartExecutionCommand).callsFake(async (input: { name: string }) => {
      if (input.name.startsWith('HOT-')) throw throttled();
      return { executionArn: `arn:exec:${input.name}` };
    });
    const { accountId: _, ...noAccount } = riskDetail('BAD');
    const out = await handler()({
      Records: [
        startRecord('m1', riskDetail('A1')),
        startRecord('m2', noAccount),
        startRecord('m3', riskDetail('HOT')),
        startRecord('m4', riskDetail('A2', 'LIQUIDATION')),
      ],
    });
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm3' }]);
    expect(deadLetter.records).toHaveLength(1);
    expect(deadLetter.records[0]).toMatchObject({
      reason: 'invalid-escalation-start',
      issues: [expect.objectContaining({ field: 'detail.accountId' })],
    });
    const names = started();
    expect(names.filter((n) => n.startsWith('A1-'))).toHaveLength(1);
    expect(names.filter((n) => n.startsWith('A2-'))).toHaveLength(1);
    expect(names.filter((n) => n.startsWith('HOT-'))).toHaveLength(ESCALATION_START_LIMITS.maxAttempts);
    expect(sleeps).toBe(ESCALATION_START_LIMITS.maxAttempts - 1);
    expect(telemetry.counts.get('EscalationsStarted')).toBe(2);
    expect(telemetry.counts.get('EscalationStartsDeferred')).toBe(1);
    expect(telemetry.counts.get('DeadLettered')).toBe(1);
  });

  it('a body that is not JSON or not a RiskLevelChanged event is dead-lettered once, not retried', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec' });
    const out = await handler()({
      Records: [rawRecord('m1', 'not json'), startRecord('m2', riskDetail('A1'), 'MarginCallTriggered')],
    });
    expect(out.batchItemFailures).toEqual([]);
    expect(deadLetter.records.map((r) => r.issues)).toEqual([
      [{ field: 'body', message: 'not JSON' }],
      [expect.objectContaining({ field: 'detail-type' })],
    ]);
    expect(started()).toEqual([]);
  });

  it('a duplicate start or a SAFE level is done; a dead letter that cannot be sent is retried', async () => {
    sfn.on(StartExecutionCommand).rejects({ name: 'ExecutionAlreadyExists', message: 'exists' });
    deadLetter.send = async () => {
      throw new Error('SQS unavailable');
    };
    const out = await handler()({
      Records: [
        startRecord('m1', riskDetail('A1')),
        startRecord('m2', riskDetail('A1', 'SAFE', null)),
        rawRecord('m3', '{}'),
      ],
    });
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm3' }]);
    expect(started()).toHaveLength(1);
    expect(telemetry.counts.get('EscalationsStarted')).toBeUndefined();
  });

  it('an incident whose attempts failed is started as its next attempt; a failed read returns the message', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec' });
    const out = await handler(async (accountId) => {
      if (accountId === 'A3') throw new Error('Actions table unavailable');
      return accountId === 'A2' ? 1 : 0;
    })({
      Records: [
        startRecord('m1', riskDetail('A1')),
        startRecord('m2', riskDetail('A2')),
        startRecord('m3', riskDetail('A3')),
      ],
    });
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm3' }]);
    expect(started().map((n) => n.replace(/[0-9a-f]{32}/, 'H'))).toEqual(['A1-H', 'A2-H-r1']);
    expect(telemetry.counts.get('EscalationsRestarted')).toBe(1);
  });
});
