import { describe, expect, it } from 'vitest';
import { Dispatcher, type DispatcherDeps } from '../../../functions/lib/dispatcher.ts';
import { classifyStepError } from '../../../functions/lib/step-errors.ts';
import { RetryLaterError } from '../../../shared/errors.ts';
import { alertFor } from '../../../shared/notify/alert.ts';
import { notificationPolicySchema } from '../../../shared/notify/policy.ts';
import { CapturedDeadLetter } from '../../helpers/capture.ts';
import { MemoryNotifyStore } from '../../helpers/memory-notify-store.ts';

/**
 * Contention the dispatcher gives up on is "retry later" (a step's TransientError), never a plain Error
 * that the workflows retry only three times; a page that does not exist is permanent. Conflict retries
 * wait on the injected clock and jitter, never a real timer.
 */

const policy = notificationPolicySchema.parse({
  routes: [{ name: 'desk', channel: 'telegram', chatId: '-100' }],
  rules: [{ categories: ['critical', 'liquidation'], routes: ['desk'] }],
  storm: { enabled: true },
});

function harness(store: MemoryNotifyStore) {
  const waits: number[] = [];
  let draws = 0;
  const deps: DispatcherDeps = {
    policy: async () => policy,
    store,
    senders: Object.fromEntries(
      ['telegram', 'email', 'sms', 'webhook', 'websocket'].map((k) => [k, { send: async () => {} }]),
    ) as unknown as DispatcherDeps['senders'],
    deadLetter: new CapturedDeadLetter(),
    audit: async () => {},
    log: () => {},
    ack: { secret: async () => 'secret', baseUrl: 'https://api.example/ack' },
    now: () => new Date('2026-11-24T12:00:00Z'),
    backoffSleep: async (ms) => void waits.push(ms),
    random: () => (draws++, 0.5),
  };
  return { dispatcher: new Dispatcher(deps), waits, draws: () => draws };
}

const alert = alertFor(
  'alert',
  {
    accountId: 'C1',
    incidentId: 'C1:risk:1',
    level: 'LIQUIDATION',
    marginRatio: '1.1',
    callMove: '-0.01',
    next: 'liquidating',
  },
  'critical',
  '2026-11-24T12:00:00Z',
);

describe('dispatcher contention', () => {
  it('alert memory that keeps changing: RetryLaterError notify-contended, a TransientError to the workflows', async () => {
    const store = new MemoryNotifyStore();
    store.saveMemory = async () => false;
    const h = harness(store);
    const error = await h.dispatcher.dispatch(alert).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryLaterError);
    expect((error as RetryLaterError).code).toBe('notify-contended');
    expect((classifyStepError(error) as Error).name).toBe('TransientError');
  });

  it('a storm item that keeps changing: RetryLaterError notify-contended, every retry waiting on the injected clock', async () => {
    const store = new MemoryNotifyStore();
    store.saveStorm = async () => false;
    const h = harness(store);
    const error = await h.dispatcher.dispatch(alert).catch((e: unknown) => e);
    expect((error as RetryLaterError).code).toBe('notify-contended');
    expect((classifyStepError(error) as Error).name).toBe('TransientError');
    // 40 attempts, each backing off through `sleep` with the injected jitter (0.5 of the cap).
    expect(h.waits.length).toBe(40);
    expect(h.draws()).toBe(40);
    expect(h.waits[0]).toBe(2.5);
    expect(Math.max(...h.waits)).toBe(100);
  });

  it('a page that does not exist: PermanentError PageNotFound (no retry can create it)', async () => {
    const h = harness(new MemoryNotifyStore());
    const error = await h.dispatcher.pageStep('start', 'missing').catch((e: unknown) => e);
    expect((error as Error).name).toBe('PermanentError');
    expect((error as Error).message).toMatch(/PageNotFound: no page missing/);
  });
});
