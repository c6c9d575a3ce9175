import { SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { runStep, type EscalationDeps } from '../../../functions/escalation/steps.ts';
import {
  ACCOUNT_CHANGED,
  MemoryWaitStore,
  SfnTaskCallbacks,
  wakeEscalation,
} from '../../../functions/lib/escalation-waits.ts';
import { escalationConfigSchema } from '../../../shared/escalation/settings.ts';

const sfn = mockClient(SFNClient);
afterEach(() => sfn.reset());

/** Just what the `wait` step reads: the settings, the stored state, the hold. */
function deps(state: { level: string; incident: string | null }, held = false) {
  const waits = new MemoryWaitStore();
  const d = {
    waits,
    settings: { get: async () => escalationConfigSchema.parse({}) },
    repo: {
      getRiskState: async () => ({
        level: state.level,
        tracker: { incident: state.incident === null ? null : { id: state.incident } },
      }),
    },
    actions: { getHold: async () => (held ? { accountId: 'A1' } : null) },
  } as unknown as EscalationDeps;
  return { d, waits };
}
const wait = (over: Record<string, unknown> = {}) => ({
  action: 'wait',
  accountId: 'A1',
  incidentId: 'I1',
  taskToken: 'tok-1',
  level: 'WARNING',
  ...over,
});

describe('the wait step', () => {
  it('stores the token when nothing changed since the re-check, and says how long the wait may last', async () => {
    const { d, waits } = deps({ level: 'WARNING', incident: 'I1' });
    const out = await runStep(wait(), d);
    expect(waits.waiters.get('A1')).toMatchObject({ token: 'tok-1', incidentId: 'I1', level: 'WARNING' });
    expect(out.wakeSeconds).toBe(3_600); // the backstop default
  });

  it.each([
    ['the level moved', { level: 'CRITICAL', incident: 'I1' }, false],
    ['the incident closed', { level: 'SAFE', incident: null }, false],
    ['a new incident opened', { level: 'WARNING', incident: 'I2' }, false],
    ['a hold was placed', { level: 'WARNING', incident: 'I1' }, true],
  ])(
    '%s before the token was stored: fails AccountChanged at once, token cleared',
    async (_, state, held) => {
      const { d, waits } = deps(state, held);
      await expect(runStep(wait(), d)).rejects.toMatchObject({ name: ACCOUNT_CHANGED });
      expect(waits.waiters.size).toBe(0);
    },
  );

  it('without a wait store it stores nothing (the wait lasts until its timeout)', async () => {
    const { d } = deps({ level: 'CRITICAL', incident: 'I1' });
    const out = await runStep(wait(), { ...d, waits: undefined });
    expect(out.performed).toBe(false);
  });
});

describe('waking', () => {
  it('completes the stored token once, then clears it', async () => {
    const waits = new MemoryWaitStore();
    await waits.put({ accountId: 'A1', incidentId: 'I1', token: 'tok-1', level: 'WARNING', since: '' });
    sfn.on(SendTaskSuccessCommand).resolves({});
    const callbacks = new SfnTaskCallbacks(sfn as unknown as SFNClient);
    expect(await wakeEscalation('A1', 'RiskLevelChanged → CRITICAL', { waits, callbacks })).toBe(true);
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input).toEqual({
      taskToken: 'tok-1',
      output: JSON.stringify({ woken: 'RiskLevelChanged → CRITICAL' }),
    });
    expect(waits.waiters.size).toBe(0);
    expect(await wakeEscalation('A1', 'again', { waits, callbacks })).toBe(false);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
  });

  it('a token no longer waiting is dropped; throttling is thrown for the event’s retries', async () => {
    const waits = new MemoryWaitStore();
    const callbacks = new SfnTaskCallbacks(sfn as unknown as SFNClient);
    await waits.put({ accountId: 'A1', incidentId: 'I1', token: 'old', level: 'WARNING', since: '' });
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'timed out', $metadata: {} }));
    expect(await wakeEscalation('A1', 'x', { waits, callbacks })).toBe(false);
    expect(waits.waiters.size).toBe(0);
    await waits.put({ accountId: 'A1', incidentId: 'I1', token: 'tok', level: 'WARNING', since: '' });
    sfn
      .on(SendTaskSuccessCommand)
      .rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    await expect(wakeEscalation('A1', 'x', { waits, callbacks })).rejects.toThrow('slow down');
    expect(waits.waiters.get('A1')?.token).toBe('tok'); // kept for the retry
  });
});
