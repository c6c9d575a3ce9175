import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SesEmailSender, SnsSmsSender } from '../../functions/lib/channels/aws-senders.ts';
import type { ChannelSender, Delivery } from '../../functions/lib/channels/delivery.ts';
import { TelegramSender } from '../../functions/lib/channels/telegram.ts';
import { WebhookSender } from '../../functions/lib/channels/webhook.ts';
import { Dispatcher, STORM_ACCOUNT, type DeliveryRecord } from '../../functions/lib/dispatcher.ts';
import { alertFor, type Alert } from '../../shared/notify/alert.ts';
import type { ChannelKind } from '../../shared/notify/policy.ts';
import { notificationPolicySchema } from '../../shared/notify/policy.ts';
import { CapturedDeadLetter, CapturedNotifier } from '../helpers/capture.ts';
import { fakeProvider } from '../helpers/fake-http.ts';
import { MemoryNotifyStore } from '../helpers/memory-notify-store.ts';

const aws = {
  region: 'eu-west-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  maxAttempts: 1,
};
const SNS_OK = `<PublishResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>s-1</MessageId></PublishResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>`;

let fakes: Record<'telegram' | 'webhook' | 'ses' | 'sns', Awaited<ReturnType<typeof fakeProvider>>>;
beforeAll(async () => {
  fakes = {
    telegram: await fakeProvider([
      { status: 200, body: JSON.stringify({ ok: true, result: { message_id: 1 } }) },
    ]),
    webhook: await fakeProvider([{ status: 200, body: 'ok' }]),
    ses: await fakeProvider([{ status: 200, body: JSON.stringify({ MessageId: 'm-1' }) }]),
    sns: await fakeProvider([{ status: 200, body: SNS_OK, contentType: 'text/xml' }]),
  };
});
afterAll(async () => Promise.all(Object.values(fakes ?? {}).map((f) => f.close())));

const policy = notificationPolicySchema.parse({
  routes: [
    { name: 'desk', channel: 'telegram', chatId: '-1001234567890' },
    { name: 'head', channel: 'email', address: 'head.of.risk@broker.example' },
    { name: 'chat', channel: 'webhook' },
    { name: 'console', channel: 'websocket' },
    { name: 'primary', channel: 'sms', phoneNumber: '+447700900101' },
  ],
  rules: [
    {
      categories: ['warning', 'critical', 'liquidation-approaching', 'deleverage', 'liquidation', 'recovery'],
      routes: ['desk', 'head', 'chat', 'console'],
    },
  ],
  onCall: [{ tier: 'primary', routes: ['primary'], ackMinutes: 10, pagesPerTier: 1 }],
  consoleUrl: 'https://console.example/',
});

const T0 = Date.parse('2020-03-12T14:30:00.000Z');

/** Account i of the wave: every fourth at LIQUIDATION (pages), the rest CRITICAL; shortfall (i + 1) × 10.01. */
function alertOf(i: number, at: number): Alert {
  const id = `W${String(i).padStart(4, '0')}`;
  const liquidation = i % 4 === 0;
  const cents = BigInt(i + 1) * 1001n;
  return alertFor(
    'alert',
    {
      accountId: id,
      incidentId: `${id}:risk:1`,
      level: liquidation ? 'LIQUIDATION' : 'CRITICAL',
      marginRatio: `1.${String(499 - (i % 400)).padStart(3, '0')}`,
      callMove: '-0.05',
      next: 'watching',
      shortfall: `${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`,
    },
    liquidation ? 'critical' : 'warning',
    new Date(at).toISOString(),
  );
}

function harness(options: { rateWaitMs?: number } = {}) {
  let now = T0;
  const sends: { channel: ChannelKind; at: number; d: Delivery }[] = [];
  const record = (channel: ChannelKind, inner: ChannelSender): ChannelSender => ({
    send: async (d) => {
      sends.push({ channel, at: now, d });
      await inner.send(d);
    },
  });
  const log: DeliveryRecord[] = [];
  const store = new MemoryNotifyStore();
  const topics = new CapturedNotifier();
  const started: string[] = [];
  const sleeps: number[] = [];
  const dispatcher = new Dispatcher({
    policy: async () => policy,
    store,
    senders: {
      telegram: record('telegram', new TelegramSender(async () => 'TOKEN', fakes.telegram.url)),
      webhook: record('webhook', new WebhookSender(async () => `${fakes.webhook.url}/hook`)),
      email: record(
        'email',
        new SesEmailSender(new SESv2Client({ ...aws, endpoint: fakes.ses.url }), 'mg@broker.example'),
      ),
      sms: record('sms', new SnsSmsSender(new SNSClient({ ...aws, endpoint: fakes.sns.url }))),
      websocket: record('websocket', { send: async () => {} }),
    },
    deadLetter: new CapturedDeadLetter(),
    paging: { start: async (id) => void started.push(id) },
    audit: async () => {},
    topics,
    log: (r) => void log.push(r),
    ack: { secret: async () => 'secret', baseUrl: 'https://api.example/ack' },
    now: () => new Date(now),
    retry: { attempts: 2, sleep: async () => {} },
    // Waiting in line moves the test's clock (the flush waits within its budget).
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    rateWaitMs: options.rateWaitMs ?? 0,
  });
  return { dispatcher, store, topics, started, sends, log, sleeps, setNow: (t: number) => (now = t) };
}

/** In every window of `perSeconds`, at most `count` sends (message i and i + count a period apart). */
function withinLimit(times: number[], count: number, perSeconds: number) {
  const sorted = [...times].sort((a, b) => a - b);
  for (let i = 0; i + count < sorted.length; i++)
    if (sorted[i + count]! - sorted[i]! < perSeconds * 1000) return false;
  return true;
}

describe('storm mode in the dispatcher, over local fakes of Telegram, Slack, SES and SNS', () => {
  it('1,000 accounts changing level within 10 s produce a bounded number of people messages', async () => {
    const h = harness();
    // 40 batches of 25 concurrent dispatches, 250 ms apart: 1,000 accounts in 10 s.
    for (let batch = 0; batch < 40; batch++) {
      const at = T0 + batch * 250;
      h.setNow(at);
      await Promise.all(
        Array.from({ length: 25 }, (_, k) => h.dispatcher.dispatch(alertOf(batch * 25 + k, at))),
      );
    }
    // The scheduled flush: at 40 s what the rate limits deferred goes, and the storm's update is due; at
    // 120 s it is calm (fewer than 5 accounts in the last 60 s): the final summary.
    h.setNow(T0 + 40_000);
    await h.dispatcher.flushHeld();
    h.setNow(T0 + 120_000);
    await h.dispatcher.flushHeld();
    // What the last flush deferred by a second (the webhook's 1/s) goes with the next.
    h.setNow(T0 + 180_000);
    await h.dispatcher.flushHeld();
    // The ladders' first rungs (the paging workflow would run these).
    for (const pageId of new Set(h.started)) await h.dispatcher.pageStep('start', pageId);

    const absorbed = h.log.filter((r) => r.accountId !== STORM_ACCOUNT && r.status === 'absorbed');
    const alone = new Set(
      h.log
        .filter((r) => r.accountId !== STORM_ACCOUNT && r.status === 'sent' && r.route === 'desk')
        .map((r) => r.accountId),
    );
    const storm = h.log.filter((r) => r.accountId === STORM_ACCOUNT && r.status === 'sent' && !r.page);
    expect(absorbed).toHaveLength(980);
    expect(alone.size).toBe(20);
    // Which 20 went first depends on who won the races; every fourth account is at LIQUIDATION and pages.
    const pagedAlone = [...alone].filter((id) => Number.parseInt(id.slice(1), 10) % 4 === 0).length;
    // Per people route: 20 alerts before the storm, its first message, one update, the final summary.
    const requests = {
      telegram: fakes.telegram.requests.length,
      webhook: fakes.webhook.requests.length,
      ses: fakes.ses.requests.length,
      sms: fakes.sns.requests.length,
    };
    expect(requests).toEqual({ telegram: 23, webhook: 23, ses: 23, sms: pagedAlone + 1 });
    expect(storm.filter((r) => r.route === 'desk').map((r) => r.alertId.split(':').at(-1))).toEqual([
      '0',
      '1',
      '2',
    ]);
    // SNS topics: alerts 20 + 3 storm messages; pages: the per-account pages, the storm's page, its end.
    expect(h.topics.sent.filter((s) => s.channel === 'alerts')).toHaveLength(23);
    expect(h.topics.sent.filter((s) => s.channel === 'pages')).toHaveLength(pagedAlone + 2);
    // Paging: each LIQUIDATION account alerted on its own has a ladder; the storm has one (each flush
    // before its first rung starts it again, in case its start was lost: a no-op for a running execution).
    expect(new Set(h.started).size).toBe(pagedAlone + 1);
    // The console still lists every account (it is nobody's inbox).
    expect(h.sends.filter((s) => s.channel === 'websocket' && s.d.route === 'console')).toHaveLength(1003);

    // None lost: the final summary counts every absorbed alert, and its shortfall is their exact sum.
    const end = h.store.stormItem.state;
    expect(end.storm).toBeNull();
    const summary = h.sends.find(
      (s) => s.d.alertId.startsWith('storm:') && s.d.alertId.endsWith(':2') && s.d.route === 'head',
    )!.d.text;
    const absorbedCents = absorbed.reduce(
      (sum, r) => sum + BigInt(Number.parseInt(r.accountId.slice(1), 10) + 1) * 1001n,
      0n,
    );
    const exact = `${absorbedCents / 100n}.${String(absorbedCents % 100n).padStart(2, '0')}`.replace(
      /\.?0+$/,
      '',
    );
    expect(summary).toContain(`Accounts: 980 (and 20 alerted one by one just before)`);
    expect(summary).toContain(`Total shortfall: ${exact}`);
    expect(summary).toContain('Alerts: 980');

    // Rate limits: never exceeded on any channel; what was deferred went later, nothing is still held.
    const at = (c: ChannelKind, to?: string) =>
      h.sends.filter((s) => s.channel === c && (to === undefined || s.d.to === to)).map((s) => s.at);
    expect(withinLimit(at('telegram'), 30, 1)).toBe(true);
    expect(withinLimit(at('telegram', '-1001234567890'), 20, 60)).toBe(true);
    expect(withinLimit(at('email'), 14, 1)).toBe(true);
    expect(withinLimit(at('webhook'), 1, 1)).toBe(true);
    expect(withinLimit(at('sms'), 20, 1)).toBe(true);
    // (Deferred topic messages are counted above: all 23 + the pages went.)
    const deferred = h.log.filter((r) => r.status === 'deferred' && r.route);
    expect(deferred.length).toBeGreaterThan(0);
    for (const d of deferred)
      expect(
        h.log.some(
          (r) => r.status === 'sent' && r.alertId === d.alertId && r.route === d.route && r.at >= d.at,
        ),
      ).toBe(true);
    expect(h.store.held.size).toBe(0);
    // Concurrent dispatchers raced for the storm item and agreed: one storm, one message per route per update.
    expect(h.store.conflicts).toBeGreaterThan(0);
  }, 60_000);

  it('a channel at its limit waits in line (within rateWaitMs), then sends', async () => {
    const h = harness({ rateWaitMs: 5000 });
    await h.dispatcher.dispatch(alertOf(1, T0));
    await h.dispatcher.dispatch(alertOf(2, T0));
    // The webhook takes 1 a second: the second alert waited its second; Telegram and SES did not wait.
    expect(h.sleeps).toEqual([1000]);
    expect(h.log.filter((r) => r.route === 'chat').map((r) => `${r.status} ${r.at.slice(17, 23)}`)).toEqual([
      'sent 00.000',
      'sent 01.000',
    ]);
  });
});
