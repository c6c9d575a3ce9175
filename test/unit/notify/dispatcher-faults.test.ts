import { describe, expect, it } from 'vitest';
import {
  RetryableDeliveryError,
  type ChannelSender,
  type Delivery,
} from '../../../functions/lib/channels/delivery.ts';
import {
  Dispatcher,
  FATIGUE_LEASE_MS,
  STORM_ACCOUNT,
  type DeliveryRecord,
  type DispatcherDeps,
} from '../../../functions/lib/dispatcher.ts';
import { DELIVERY_LEASE_MS } from '../../../functions/lib/notify-store.ts';
import type { Channel, Notifier } from '../../../functions/lib/notifier.ts';
import type { Notification } from '../../../shared/escalation/messages.ts';
import { alertFor } from '../../../shared/notify/alert.ts';
import { notificationPolicySchema } from '../../../shared/notify/policy.ts';
import { CapturedDeadLetter } from '../../helpers/capture.ts';
import { MemoryNotifyStore } from '../../helpers/memory-notify-store.ts';

/**
 * The dispatcher over in-memory fakes, with faults at its I/O points: whatever fails once, the retry
 * (a step's or a queue's, with the same alert) delivers what was not delivered, and only that.
 */

const policy = notificationPolicySchema.parse({
  routes: [
    { name: 'desk', channel: 'telegram', chatId: '-100' },
    { name: 'primary', channel: 'sms', phoneNumber: '+447700900101' },
    { name: 'secondary', channel: 'sms', phoneNumber: '+447700900102' },
  ],
  rules: [{ categories: ['warning', 'critical', 'liquidation-approaching'], routes: ['desk'] }],
  onCall: [
    { tier: 'primary', routes: ['primary'], ackMinutes: 10, pagesPerTier: 1 },
    { tier: 'secondary', routes: ['secondary'], ackMinutes: 10, pagesPerTier: 1 },
  ],
  fatigue: { quietPeriodMinutes: 60, digestMinutes: 60 },
  storm: { enabled: false },
});

/** SNS topics that fail the next `failNext[channel]` publishes. */
class FlakyTopics implements Notifier {
  readonly sent: { channel: Channel; n: Notification }[] = [];
  readonly failNext: Record<Channel, number> = { alerts: 0, pages: 0 };
  async notify(channel: Channel, n: Notification): Promise<void> {
    if (this.failNext[channel] > 0) {
      this.failNext[channel] -= 1;
      throw Object.assign(new Error(`SNS ${channel} unavailable`), { name: 'InternalErrorException' });
    }
    this.sent.push({ channel, n });
  }
}

function harness(start = '2026-11-24T12:00:00Z') {
  let now = new Date(start).getTime();
  const sent: Delivery[] = [];
  const log: DeliveryRecord[] = [];
  const store = new MemoryNotifyStore();
  const deadLetter = new CapturedDeadLetter();
  const topics = new FlakyTopics();
  const started: string[] = [];
  const failStart = { next: 0 };
  const failSecret = { next: 0 };
  /** While set, Telegram sends wait for it (a delivery in progress). */
  const gate: { hold: Promise<void> | null; entered: () => void } = { hold: null, entered: () => {} };
  const ok: ChannelSender = { send: async (d) => void sent.push(d) };
  /** Errors the next Telegram sends throw, in order. */
  const telegramErrors: Error[] = [];
  const telegram: ChannelSender = {
    send: async (d) => {
      const error = telegramErrors.shift();
      if (error) throw error;
      if (gate.hold) {
        gate.entered();
        await gate.hold;
      }
      sent.push(d);
    },
  };
  const deps: DispatcherDeps = {
    policy: async () => policy,
    store,
    senders: { telegram, email: ok, sms: ok, websocket: ok, webhook: ok },
    deadLetter,
    paging: {
      start: async (id) => {
        if (failStart.next-- > 0)
          throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
        started.push(id);
      },
    },
    audit: async () => {},
    topics,
    log: (r) => void log.push(r),
    ack: {
      secret: async () => {
        if (failSecret.next-- > 0)
          throw Object.assign(new Error('secret throttled'), { name: 'ThrottlingException' });
        return 'secret';
      },
      baseUrl: 'https://api.example/ack',
    },
    now: () => new Date(now),
    retry: { attempts: 2, sleep: async () => {} },
    sleep: async (ms) => void (now += ms),
    rateWaitMs: 0,
  };
  return {
    dispatcher: new Dispatcher(deps),
    deps,
    store,
    topics,
    started,
    failStart,
    failSecret,
    gate,
    telegramErrors,
    deadLetter,
    sent,
    log,
    advance: (ms: number) => (now += ms),
  };
}

const liquidation = (accountId = 'P1', at = '2026-11-24T12:00:00Z') =>
  alertFor(
    'alert',
    {
      accountId,
      incidentId: `${accountId}:risk:1`,
      level: 'LIQUIDATION',
      marginRatio: '1.1',
      callMove: '-0.01',
      next: 'liquidating',
    },
    'critical',
    at,
  );

describe('dispatcher: fatigue memory is committed only with the delivery it describes', () => {
  it('the pages topic failing once: the retried dispatch pages (topic and ladder), each message once', async () => {
    const h = harness();
    h.topics.failNext.pages = 1;
    await expect(h.dispatcher.dispatch(liquidation())).rejects.toThrow(/SNS pages unavailable/);
    const retried = await h.dispatcher.dispatch(liquidation());
    expect(retried).toMatchObject({ sent: true, pageId: expect.any(String) });
    expect(h.started).toEqual([retried.pageId]);
    expect(h.topics.sent.map((s) => s.channel)).toEqual(['alerts', 'pages']);
    expect(h.sent.map((d) => d.route)).toEqual(['desk']);
    // And now the episode remembers it: the same category again is suppressed.
    const again = await h.dispatcher.dispatch({
      ...liquidation(),
      id: 'P1:other',
      at: '2026-11-24T12:01:00Z',
    });
    expect(again).toEqual({ sent: false, reason: 'already-alerted-this-episode' });
  });

  it('the paging start throttled once: the retry still starts the ladder', async () => {
    const h = harness();
    h.failStart.next = 1;
    await expect(h.dispatcher.dispatch(liquidation())).rejects.toThrow(/throttled/);
    const retried = await h.dispatcher.dispatch(liquidation());
    expect(retried.pageId).toEqual(expect.any(String));
    expect(h.started).toEqual([retried.pageId]);
    expect(h.topics.sent.map((s) => s.channel)).toEqual(['alerts', 'pages']);
  });
});

describe('dispatcher: concurrent alerts of one account wait for the one being delivered', () => {
  it('while one is delivering, another waits, then asks to be retried; retried, it sees what was sent', async () => {
    const h = harness();
    let release!: () => void;
    const entered = new Promise<void>((r) => (h.gate.entered = r));
    h.gate.hold = new Promise<void>((r) => (release = r));
    const first = h.dispatcher.dispatch(liquidation());
    await entered;
    const second = { ...liquidation(), id: 'P1:from-the-stream' };
    await expect(h.dispatcher.dispatch(second)).rejects.toMatchObject({
      name: 'RetryLaterError',
      code: 'alert-memory-busy',
    });
    h.gate.hold = null;
    release();
    expect(await first).toMatchObject({ sent: true });
    expect(await h.dispatcher.dispatch(second)).toEqual({
      sent: false,
      reason: 'already-alerted-this-episode',
    });
    expect(h.sent.map((d) => d.route)).toEqual(['desk']);
  });

  it('a dispatcher that died holding the lease holds nobody up past it', async () => {
    const h = harness();
    // The claim of an alert whose dispatcher died before delivering: the lease, nothing remembered.
    await h.store.saveMemory(
      'P1',
      {
        episodeStartedAt: null,
        safeSince: null,
        alerted: [],
        openNotice: false,
        suppressed: 0,
        lease: { alertId: 'P1:dead', until: Date.parse('2026-11-24T12:00:00Z') + FATIGUE_LEASE_MS },
      },
      0,
    );
    await expect(h.dispatcher.dispatch(liquidation())).rejects.toMatchObject({ code: 'alert-memory-busy' });
    h.advance(FATIGUE_LEASE_MS);
    expect(await h.dispatcher.dispatch(liquidation())).toMatchObject({
      sent: true,
      pageId: expect.any(String),
    });
    expect(h.sent.map((d) => d.route)).toEqual(['desk']);
    const { memory } = await h.store.memory('P1');
    expect(memory.alerted).toEqual(['liquidation-approaching']);
    expect(memory.lease).toBeUndefined();
  });
});

describe('paging: a rung is taken only once its delivery went out', () => {
  it('the ack-link secret failing once while paging: the retried step pages the tier (once)', async () => {
    const h = harness();
    const { pageId } = await h.dispatcher.dispatch(liquidation());
    h.failSecret.next = 1;
    await expect(h.dispatcher.pageStep('start', pageId!)).rejects.toThrow(/secret throttled/);
    const retried = await h.dispatcher.pageStep('start', pageId!);
    expect(retried).toMatchObject({ done: false, tier: 0, attempt: 1, waitSeconds: 600 });
    expect(h.sent.filter((d) => d.route === 'primary')).toHaveLength(1);
    // Retried again after it went out: the rung is taken, nobody is paged twice.
    expect(await h.dispatcher.pageStep('start', pageId!)).toMatchObject({ note: 'rung already taken' });
    expect(h.sent.filter((d) => d.route === 'primary')).toHaveLength(1);
  });

  it('the SMS provider crashing the step mid-send: within the lease the retry waits, after it the rung is paged', async () => {
    const h = harness();
    const { pageId } = await h.dispatcher.dispatch(liquidation());
    // A step that claimed the rung's SMS and died before settling it (a Lambda timeout): nothing was sent.
    const key = `${liquidation().id}#primary#page-t0-a1`;
    expect(await h.store.claimDelivery('P1', key, new Date('2026-11-24T12:00:00Z').toISOString())).toEqual({
      claimed: true,
    });
    await expect(h.dispatcher.pageStep('start', pageId!)).rejects.toMatchObject({
      name: 'RetryLaterError',
      code: 'delivery-in-flight',
    });
    expect(h.sent.filter((d) => d.route === 'primary')).toHaveLength(0);
    h.advance(DELIVERY_LEASE_MS + 1);
    expect(await h.dispatcher.pageStep('start', pageId!)).toMatchObject({ tier: 0, attempt: 1 });
    expect(h.sent.filter((d) => d.route === 'primary')).toHaveLength(1);
  });
});

describe('storm mode: the storm’s one page is not lost to a failure after the storm was marked paged', () => {
  it('the pages topic failing as the storm pages: the retry and the next flush still page it, once', async () => {
    const storming = notificationPolicySchema.parse({
      ...policy,
      storm: { enabled: true, startAccounts: 2, endAccounts: 1, windowSeconds: 60, updateSeconds: 30 },
    });
    const h = harness();
    h.dispatcher = new Dispatcher({ ...h.deps, policy: async () => storming });
    await h.dispatcher.dispatch(liquidation('S1'));
    await h.dispatcher.dispatch(liquidation('S2'));
    expect(h.started).toHaveLength(2); // alone, each its own page
    h.topics.failNext.pages = 1;
    await expect(h.dispatcher.dispatch(liquidation('S3'))).rejects.toThrow(/SNS pages unavailable/);
    await h.dispatcher.dispatch(liquidation('S3'));
    await h.dispatcher.flushHeld(); // the storm is still on
    expect(h.started).toHaveLength(3);
    const stormPage = h.started[2]!;
    expect((await h.store.page(stormPage))?.accountId).toBe(STORM_ACCOUNT);
    expect(
      h.topics.sent.filter((s) => s.channel === 'pages' && s.n.accountId === STORM_ACCOUNT),
    ).toHaveLength(1);
    // Flushes after that start nothing new (a running ladder's start is a no-op) and publish nothing twice.
    await h.dispatcher.flushHeld();
    expect(new Set(h.started)).toEqual(new Set(h.started.slice(0, 3)));
    expect(
      h.topics.sent.filter((s) => s.channel === 'pages' && s.n.accountId === STORM_ACCOUNT),
    ).toHaveLength(1);
  });
});

describe('a provider asking to wait longer than a function may', () => {
  it('Telegram’s retry_after of 60 s: held (deferred), the alert goes on, the flush sends it once due', async () => {
    const h = harness();
    h.telegramErrors.push(new RetryableDeliveryError('telegram answered 429', 60_000));
    expect(await h.dispatcher.dispatch(liquidation())).toMatchObject({
      sent: true,
      pageId: expect.any(String),
    });
    expect(h.log.find((r) => r.route === 'desk')).toMatchObject({
      status: 'deferred',
      reason: expect.stringMatching(/until 2026-11-24T12:01:00\.000Z$/),
    });
    expect(h.deadLetter.records).toEqual([]);
    expect(h.sent).toEqual([]);
    expect(await h.dispatcher.flushHeld()).toBe(0); // not due yet
    h.advance(60_000);
    expect(await h.dispatcher.flushHeld()).toBe(1);
    expect(h.sent.map((d) => d.route)).toEqual(['desk']);
    h.advance(60_000);
    await h.dispatcher.flushHeld();
    expect(h.sent.map((d) => d.route)).toEqual(['desk']);
  });
});
