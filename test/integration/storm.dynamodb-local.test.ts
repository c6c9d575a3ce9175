import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelSender, Delivery } from '../../functions/lib/channels/delivery.ts';
import { Dispatcher, STORM_ACCOUNT, type DeliveryRecord } from '../../functions/lib/dispatcher.ts';
import { NotifyStore } from '../../functions/lib/notify-store.ts';
import { createTables, localClient } from '../../local/tables.ts';
import { testDynamoDb, type TestDynamoDb } from '../helpers/dynamodb.ts';
import { alertFor } from '../../shared/notify/alert.ts';
import { notificationPolicySchema } from '../../shared/notify/policy.ts';
import { summarize } from '../../shared/notify/storm.ts';
import { CapturedDeadLetter, CapturedNotifier } from '../helpers/capture.ts';

let db: TestDynamoDb;
let client: DynamoDBClient;
let tables: Awaited<ReturnType<typeof createTables>>;

beforeAll(async () => {
  db = await testDynamoDb();
  client = localClient(db.endpoint);
  tables = await createTables(client, db.prefix('storm'));
}, 120_000);
afterAll(async () => db?.stop());

const policy = notificationPolicySchema.parse({
  routes: [
    { name: 'desk', channel: 'telegram', chatId: '-100' },
    { name: 'head', channel: 'email', address: 'head.of.risk@broker.example' },
    { name: 'console', channel: 'websocket' },
    { name: 'primary', channel: 'sms', phoneNumber: '+447700900101' },
  ],
  rules: [
    {
      categories: ['critical', 'liquidation-approaching', 'deleverage', 'manual-action'],
      routes: ['desk', 'head', 'console'],
    },
  ],
  onCall: [{ tier: 'primary', routes: ['primary'], ackMinutes: 10 }],
});

const T0 = Date.parse('2026-11-24T12:00:00.000Z');
const facts = (i: number) => ({
  accountId: `S${String(i).padStart(3, '0')}`,
  incidentId: `S${i}:risk:1`,
  level: 'CRITICAL' as const,
  marginRatio: `1.${String(400 + i).padStart(3, '0')}`,
  callMove: '-0.05',
  next: 'watching',
  shortfall: `${i}.50`,
});

describe('storm mode on DynamoDB Local: concurrent dispatchers agree on one storm', () => {
  it('200 accounts, 20 dispatchers at a time: 20 alone, one first message per route, each account counted once', async () => {
    let now = T0;
    const sent: Delivery[] = [];
    const log: DeliveryRecord[] = [];
    const ok: ChannelSender = { send: async (d) => void sent.push(d) };
    const store = new NotifyStore(client, tables.actions);
    const started: string[] = [];
    const dispatcher = new Dispatcher({
      policy: async () => policy,
      store,
      senders: { telegram: ok, email: ok, sms: ok, webhook: ok, websocket: ok },
      deadLetter: new CapturedDeadLetter(),
      paging: { start: async (id) => void started.push(id) },
      audit: async () => {},
      topics: new CapturedNotifier(),
      log: (r) => void log.push(r),
      ack: { secret: async () => 'secret', baseUrl: 'https://api.example/ack' },
      now: () => new Date(now),
      sleep: async (ms) => void (now += ms),
      rateWaitMs: 0,
    });
    const t = performance.now();
    for (let batch = 0; batch < 10; batch++) {
      now = T0 + batch * 500;
      await Promise.all(
        Array.from({ length: 20 }, (_, k) =>
          dispatcher.dispatch(
            alertFor('alert', facts(batch * 20 + k), 'warning', new Date(now).toISOString()),
          ),
        ),
      );
    }
    const elapsed = performance.now() - t;
    // 20 alerted alone: the Telegram group takes 18 of them now (20 a minute, 2 kept for the storm's
    // message) and defers 2; the e-mail route takes 13 now (14/s, 1 kept) and defers 7.
    const alone = (route: string) =>
      log
        .filter((r) => r.accountId !== STORM_ACCOUNT && r.route === route)
        .map((r) => r.status)
        .sort();
    expect(alone('desk')).toEqual([...Array(2).fill('deferred'), ...Array(18).fill('sent')]);
    expect(alone('head')).toEqual([...Array(7).fill('deferred'), ...Array(13).fill('sent')]);
    expect(log.filter((r) => r.status === 'absorbed')).toHaveLength(180);
    const firsts = sent.filter((d) => d.alertId.startsWith('storm:') && d.alertId.endsWith(':0'));
    expect(firsts.map((d) => d.route).sort()).toEqual(['console', 'desk', 'head']);

    // A manual action goes on its own even during the storm (a person's own action is not gathered).
    const again = log.find((r) => r.status === 'absorbed')!.accountId;
    const i = Number.parseInt(again.slice(1), 10);
    const manual = await dispatcher.dispatch({
      ...alertFor('alert', facts(i), 'info', new Date(now).toISOString()),
      id: `${again}:manual`,
      category: 'manual-action',
      headline: `hold placed on ${again}`,
    });
    expect(manual.sent).toBe(true);
    // An absorbed account's second alert (its deleverage) counts it once, at its latest shortfall.
    await dispatcher.dispatch(
      alertFor('deleverage', { ...facts(i), shortfall: '1000.00' }, 'warning', new Date(now).toISOString()),
    );
    const { state } = await store.storm();
    const shares = await store.shares(state.storm!.id);
    expect(shares.find((s) => s.accountId === again)).toMatchObject({
      level: 'CRITICAL',
      shortfall: '1000',
      intents: 2,
      categories: { critical: 1, deleverage: 1 },
      severities: ['warning'],
      routes: ['console', 'desk', 'head'],
    });
    const snapshot = summarize(state.storm!, shares, 10);
    expect(snapshot).toMatchObject({ accounts: 180, intents: 181 });
    // Σ (i + 0.50) over the 180 absorbed accounts, with this one's 1000.00 instead of its i.50.
    const absorbedIds = log.filter((r) => r.status === 'absorbed' && r.category !== 'deleverage');
    const cents = absorbedIds.reduce(
      (sum, r) => sum + BigInt(Number.parseInt(r.accountId.slice(1), 10)) * 100n + 50n,
      0n,
    );
    const total = cents - (BigInt(i) * 100n + 50n) + 100_000n;
    expect(snapshot.shortfall).toBe(
      `${total / 100n}.${String(total % 100n).padStart(2, '0')}`.replace(/\.?0+$/, ''),
    );

    // Calm: the scheduled flush sends the final summary once, however many flushes race for it.
    now = T0 + 5 * 60_000;
    await Promise.all([dispatcher.flushHeld(), dispatcher.flushHeld(), dispatcher.flushHeld()]);
    const ends = sent.filter((d) => d.alertId.startsWith('storm:') && d.alertId.endsWith(':1'));
    expect(ends.map((d) => d.route).sort()).toEqual(['console', 'desk', 'head']);
    expect(ends.find((d) => d.route === 'head')!.text).toContain('is over');
    expect((await store.storm()).state.storm).toBeNull();
    // No storm page: CRITICAL alerts do not page. Nothing is left held.
    expect(started).toEqual([]);
    expect(await store.due(new Date(now + 3_600_000))).toEqual([]);
    expect(sent.filter((d) => d.route === 'desk' && !d.alertId.startsWith('storm:'))).toHaveLength(21);
    console.log(`storm on DynamoDB Local: 200 dispatches, 20 at a time, in ${Math.round(elapsed)} ms`);
  }, 120_000);
});
