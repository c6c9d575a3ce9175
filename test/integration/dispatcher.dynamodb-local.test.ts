import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionsRepository } from '../../functions/lib/actions-repository.ts';
import {
  PermanentDeliveryError,
  type ChannelSender,
  type Delivery,
} from '../../functions/lib/channels/delivery.ts';
import { Dispatcher, type DeliveryRecord } from '../../functions/lib/dispatcher.ts';
import { DELIVERY_LEASE_MS, NotifyStore } from '../../functions/lib/notify-store.ts';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createTables, localClient } from '../../local/tables.ts';
import { testDynamoDb, type TestDynamoDb } from '../helpers/dynamodb.ts';
import { alertFor } from '../../shared/notify/alert.ts';
import { notificationPolicySchema } from '../../shared/notify/policy.ts';
import { CapturedDeadLetter } from '../helpers/capture.ts';

let db: TestDynamoDb;
let client: DynamoDBClient;
let tables: Awaited<ReturnType<typeof createTables>>;

beforeAll(async () => {
  db = await testDynamoDb();
  client = localClient(db.endpoint);
  tables = await createTables(client, db.prefix('dispatch'));
}, 120_000);
afterAll(async () => db?.stop());

const policy = notificationPolicySchema.parse({
  routes: [
    {
      name: 'desk',
      channel: 'telegram',
      chatId: '-100',
      quietHours: { start: '22:00', end: '07:00', timeZone: 'UTC' },
    },
    { name: 'compliance', channel: 'email', address: 'compliance@broker.example', digest: true },
    { name: 'broken', channel: 'webhook' },
    { name: 'primary', channel: 'sms', phoneNumber: '+447700900101' },
    { name: 'secondary', channel: 'sms', phoneNumber: '+447700900102' },
  ],
  rules: [{ categories: ['warning', 'liquidation-approaching'], routes: ['desk', 'compliance', 'broken'] }],
  onCall: [
    { tier: 'primary', routes: ['primary'], ackMinutes: 10, pagesPerTier: 1 },
    { tier: 'secondary', routes: ['secondary'], ackMinutes: 10, pagesPerTier: 1 },
  ],
  fatigue: { quietPeriodMinutes: 60, digestMinutes: 60 },
});

function harness(start: string) {
  let now = new Date(start);
  const sent: Delivery[] = [];
  const log: DeliveryRecord[] = [];
  const deadLetter = new CapturedDeadLetter();
  const started: string[] = [];
  const ok: ChannelSender = { send: async (d) => void sent.push(d) };
  const actions = new ActionsRepository(client, tables.actions, () => now);
  const dispatcher = new Dispatcher({
    policy: async () => policy,
    store: new NotifyStore(client, tables.actions),
    senders: {
      telegram: ok,
      email: ok,
      sms: ok,
      websocket: ok,
      webhook: { send: async () => Promise.reject(new PermanentDeliveryError('webhook answered 404')) },
    },
    deadLetter,
    paging: { start: async (id) => void started.push(id) },
    audit: (e) => actions.audit(e),
    log: (r) => void log.push(r),
    ack: { secret: async () => 'secret', baseUrl: 'https://api.example/ack' },
    now: () => now,
    retry: { attempts: 2, sleep: async () => {} },
  });
  return {
    dispatcher,
    sent,
    log,
    deadLetter,
    started,
    actions,
    setNow: (iso: string) => (now = new Date(iso)),
  };
}

const facts = (accountId: string, level: 'WARNING' | 'LIQUIDATION') => ({
  accountId,
  incidentId: `${accountId}:risk:1`,
  level,
  marginRatio: level === 'WARNING' ? '1.9' : '1.1',
  callMove: '-0.1',
  next: 'watching',
});

describe('dispatcher on DynamoDB Local', () => {
  it('holds in quiet hours, collects digests, dead-letters a failing channel; flushes when due', async () => {
    const h = harness('2026-11-24T23:30:00Z');
    await h.dispatcher.dispatch(alertFor('alert', facts('Q1', 'WARNING'), 'warning', '2026-11-24T23:30:00Z'));
    // Nothing went out at 23:30: the desk is in quiet hours, compliance takes a digest, the webhook failed.
    expect(h.sent).toEqual([]);
    expect(h.log.map((r) => `${r.route} ${r.status}`)).toEqual([
      'desk held',
      'compliance digest',
      'broken failed',
    ]);
    expect(h.deadLetter.records).toMatchObject([
      { reason: 'notification-undeliverable', issues: 'webhook answered 404' },
    ]);
    h.setNow('2026-11-25T00:00:00Z');
    expect(await h.dispatcher.flushHeld()).toBe(1); // the digest is due at the hour
    expect(h.sent.map((d) => `${d.route}: ${d.subject}`)).toEqual([
      'compliance: [Margin Guard] digest: 1 notification(s)',
    ]);
    h.setNow('2026-11-25T07:00:00Z');
    expect(await h.dispatcher.flushHeld()).toBe(1); // quiet hours end at 07:00
    expect(h.sent.at(-1)).toMatchObject({ route: 'desk', to: '-100' });
    expect(await h.dispatcher.flushHeld()).toBe(0);
  });

  it('one page per incident; each rung is paged once even when a step is retried; an ack stops the ladder', async () => {
    const h = harness('2026-11-24T12:00:00Z');
    const first = await h.dispatcher.dispatch(
      alertFor('alert', facts('P1', 'LIQUIDATION'), 'critical', '2026-11-24T12:00:00Z'),
    );
    const second = await h.dispatcher.dispatch(
      alertFor('liquidation', facts('P1', 'LIQUIDATION'), 'critical', '2026-11-24T12:01:00Z', true),
    );
    expect(second.pageId).toBe(first.pageId);
    const pageId = first.pageId!;
    const started = await h.dispatcher.pageStep('start', pageId);
    expect(started).toMatchObject({ tier: 0, attempt: 1, waitSeconds: 600 });
    await h.dispatcher.pageStep('start', pageId); // a retried start: the rung is taken, nothing sent twice
    expect(h.sent.filter((d) => d.route === 'primary')).toHaveLength(1);
    expect(h.sent.find((d) => d.route === 'primary')!.text).toMatch(
      /Ack: https:\/\/api\.example\/ack\?token=/,
    );
    const escalated = await h.dispatcher.pageStep('escalate', pageId, started);
    expect(escalated).toMatchObject({ done: false, waitSeconds: 600, tier: 1, attempt: 1 });
    await h.dispatcher.pageStep('escalate', pageId, started); // retried: already past that rung
    expect(h.sent.filter((d) => d.route === 'secondary')).toHaveLength(1);
    expect(await h.dispatcher.acknowledge(pageId, 'api:olivia')).toMatchObject({
      first: true,
      ackedBy: 'api:olivia',
    });
    expect(await h.dispatcher.pageStep('escalate', pageId)).toMatchObject({
      done: true,
      note: expect.stringMatching(/acknowledged by api:olivia/),
    });
    expect(h.sent.filter((d) => d.channel === 'sms')).toHaveLength(2);
    const audit = (await h.actions.listAudit('P1')).map((a) => a.action);
    expect(audit).toEqual(expect.arrayContaining(['page', 'page-escalated', 'page-acknowledged']));
  });

  it('delivery claims: one of concurrent claimers wins; a crashed claim lapses after its lease; sent stays sent', async () => {
    const store = new NotifyStore(client, tables.actions);
    const t0 = Date.parse('2026-11-24T12:00:00Z');
    const at = (ms: number) => new Date(t0 + ms).toISOString();
    const claims = await Promise.all(
      Array.from({ length: 8 }, () => store.claimDelivery('L1', 'a#primary#page-t0-a1', at(0))),
    );
    expect(claims.filter((c) => c.claimed)).toHaveLength(1);
    expect(claims.filter((c) => !c.claimed)).toEqual(
      Array(7).fill({ claimed: false, status: 'claimed', until: t0 + DELIVERY_LEASE_MS }),
    );
    // Its claimer died without settling: within the lease nobody else delivers, after it the next one does.
    expect(await store.claimDelivery('L1', 'a#primary#page-t0-a1', at(DELIVERY_LEASE_MS))).toMatchObject({
      claimed: false,
      status: 'claimed',
    });
    expect(await store.claimDelivery('L1', 'a#primary#page-t0-a1', at(DELIVERY_LEASE_MS + 1))).toEqual({
      claimed: true,
    });
    await store.settleDelivery('L1', 'a#primary#page-t0-a1', 'sent', 1);
    expect(await store.claimDelivery('L1', 'a#primary#page-t0-a1', at(10 * DELIVERY_LEASE_MS))).toEqual({
      claimed: false,
      status: 'sent',
    });
    // A failed delivery (dead-lettered) may be claimed again at once; so may a rate-deferred one.
    expect(await store.claimDelivery('L1', 'b#desk#alert', at(0))).toEqual({ claimed: true });
    await store.settleDelivery('L1', 'b#desk#alert', 'failed', 4);
    expect(await store.claimDelivery('L1', 'b#desk#alert', at(1))).toEqual({ claimed: true });
    // A claim written before leases existed (no leaseUntil) lapses a lease after it was taken.
    await DynamoDBDocumentClient.from(client).send(
      new PutCommand({
        TableName: tables.actions,
        Item: { accountId: 'L1', actionKey: 'DELIVERY#old#desk#alert', status: 'claimed', at: at(0) },
      }),
    );
    expect(await store.claimDelivery('L1', 'old#desk#alert', at(1000))).toMatchObject({ claimed: false });
    expect(await store.claimDelivery('L1', 'old#desk#alert', at(DELIVERY_LEASE_MS + 1))).toEqual({
      claimed: true,
    });
  });
});
