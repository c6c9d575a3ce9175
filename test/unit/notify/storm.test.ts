import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RiskLevel } from '../../../shared/risk/levels.ts';
import { notificationPolicySchema, type NotificationPolicy } from '../../../shared/notify/policy.ts';
import {
  bucketsFor,
  PUBLISHED_LIMITS,
  take,
  type Buckets,
  type RateLimit,
} from '../../../shared/notify/rate-limit.ts';
import {
  accountsInWindow,
  applyIntent,
  applyTick,
  NO_STORM,
  observe,
  peopleMessagesForWave,
  simulateWave,
  stormSms,
  stormTelegram,
  stormText,
  summarize,
  type AlertIntent,
  type StormMessage,
  type StormShare,
  type StormState,
  type WaveChange,
} from '../../../shared/notify/storm.ts';
import { ALERT_CATEGORIES } from '../../../shared/notify/policy.ts';

const T0 = Date.parse('2020-03-12T14:30:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

const policy = notificationPolicySchema.parse({
  routes: [
    { name: 'desk', channel: 'telegram', chatId: '-1001234567890' },
    { name: 'head', channel: 'email', address: 'head.of.risk@broker.example' },
    { name: 'chat', channel: 'webhook' },
    { name: 'console', channel: 'websocket' },
    { name: 'primary', channel: 'sms', phoneNumber: '+447700900101' },
  ],
  rules: [{ categories: [...ALERT_CATEGORIES], routes: ['desk', 'head', 'chat', 'console'] }],
  onCall: [{ tier: 'primary', routes: ['primary'], ackMinutes: 10 }],
  consoleUrl: 'https://console.example/',
});

/** Account i of the crash: every fourth at LIQUIDATION, the rest CRITICAL; shortfall (i + 1) × 10.01; ratio 1.5 − i/1000. */
function crashIntent(i: number, atMs: number): AlertIntent {
  const liquidation = i % 4 === 0;
  return {
    accountId: `A${String(i).padStart(3, '0')}`,
    category: liquidation ? 'liquidation-approaching' : 'critical',
    severity: liquidation ? 'critical' : 'warning',
    to: liquidation ? 'LIQUIDATION' : 'CRITICAL',
    shortfall: `${Math.floor(((i + 1) * 1001) / 100)}.${String(((i + 1) * 1001) % 100).padStart(2, '0')}`,
    ratio: `1.${String(500 - i).padStart(3, '0')}`,
    at: at(atMs),
    routes: ['desk', 'head', 'chat', 'console'],
    page: liquidation,
  };
}

/** Runs intents (and ticks) through storm mode as a dispatcher does, with the storm's shares in a map. */
function run(events: ({ intent: AlertIntent; now: number } | { tick: number })[], p = policy.storm) {
  let state: StormState = NO_STORM;
  const shares = new Map<string, StormShare>();
  const individual: string[] = [];
  const messages: StormMessage[] = [];
  let pages = 0;
  for (const e of events) {
    if ('tick' in e) {
      const t = applyTick(state, shares, T0 + e.tick, p);
      state = t.state;
      messages.push(...t.messages);
      continue;
    }
    const step = applyIntent(state, shares, e.intent, T0 + e.now, p);
    // The state is a plain value: it survives a round trip through JSON (one DynamoDB item).
    state = JSON.parse(JSON.stringify(step.state)) as StormState;
    messages.push(...step.messages);
    if (!step.absorbed) individual.push(e.intent.accountId);
    if (step.pageStorm) pages += 1;
  }
  const snapshot = () => summarize(state.storm!, shares.values(), p.worstAccounts);
  return { state, shares, individual, messages, pages, snapshot };
}

describe('storm mode: a worked timeline', () => {
  // 100 accounts change level within 10 s (one every 100 ms), then the scheduled tick runs every 10 s.
  const burst = Array.from({ length: 100 }, (_, i) => ({ intent: crashIntent(i, i * 100), now: i * 100 }));
  const ticks = Array.from({ length: 12 }, (_, k) => ({ tick: 10_000 * (k + 1) }));
  const after = { intent: { ...crashIntent(100, 125_000), accountId: 'LATE' }, now: 125_000 };
  const r = run([...burst, ...ticks, after]);

  it('the first 20 accounts are alerted one by one; the 21st starts the storm; the rest are counted', () => {
    expect(r.individual.slice(0, 20)).toEqual(
      Array.from({ length: 20 }, (_, i) => `A${String(i).padStart(3, '0')}`),
    );
    // … and after the storm, per-account alerts resume.
    expect(r.individual).toHaveLength(21);
    expect(r.individual.at(-1)).toBe('LATE');
  });

  it('exactly one first message, one update no sooner than 30 s after it, one final summary', () => {
    expect(r.messages.map((m) => `${m.kind}#${m.seq} ${m.at.slice(11, 23)}`)).toEqual([
      'start#0 14:30:02.000', // A020 at 2.0 s: 21 accounts in 60 s
      'update#1 14:30:40.000', // the first tick ≥ 32 s with absorbed alerts pending
      'end#2 14:31:10.000', // the tick after calm: the 5th latest (A095, 9.5 s) left the window at 69.5 s
    ]);
    expect(r.messages[2]!.endedAt).toBe('2020-03-12T14:31:09.500Z');
    expect(r.state.storm).toBeNull();
  });

  it('counts per level, exact total shortfall and the worst ten, checked by hand', () => {
    const end = r.messages.at(-1)!.storm;
    // Absorbed: A020 … A099 = 80 accounts; LIQUIDATION every fourth (A020, A024 … A096) = 20.
    expect(end.accounts).toBe(80);
    expect(end.intents).toBe(80);
    expect(end.levels).toEqual({ LIQUIDATION: 20, CRITICAL: 60 });
    expect(end.categories).toEqual({ 'liquidation-approaching': 20, critical: 60 });
    // Σ (i + 1) × 10.01 for i = 20 … 99 = 10.01 × (5050 − 210) = 10.01 × 4840 = 48,448.40.
    expect(end.shortfall).toBe('48448.4');
    // Lowest ratio: A099 at 1.401, then A098 … A090.
    expect(end.worst.map((w) => `${w.accountId} ${w.ratio}`)).toEqual(
      Array.from({ length: 10 }, (_, k) => `A0${99 - k} 1.${401 + k}`),
    );
    expect(end.alertedBefore).toBe(20);
    expect(end.routes).toEqual(['chat', 'console', 'desk', 'head']);
    expect(end.severity).toBe('critical');
  });

  it('pages once for the storm however many of its alerts would page', () => {
    expect(r.pages).toBe(1);
  });

  it('an account counted twice in one storm is counted once, at its latest level, shortfall and ratio', () => {
    const twice = run([
      ...burst.slice(0, 30),
      {
        intent: { ...crashIntent(25, 3100), to: 'LIQUIDATION', shortfall: '1000.00', ratio: '0.9' },
        now: 3100,
      },
    ]);
    const storm = twice.snapshot();
    // A020 … A029 absorbed (10 accounts: A020, A024, A028 at LIQUIDATION), then A025 again at LIQUIDATION.
    expect(storm.accounts).toBe(10);
    expect(storm.intents).toBe(11);
    expect(storm.levels).toEqual({ LIQUIDATION: 4, CRITICAL: 6 });
    // Σ (i + 1) × 10.01 for i = 20 … 29, less A025's 260.26, plus its new 1000.00.
    const before = [...Array(10)].reduce((s: number, _, k) => s + (21 + k) * 1001, 0); // in cents
    expect(before).toBe(255_255);
    expect(storm.shortfall).toBe('3292.29'); // 2552.55 − 260.26 + 1000.00
    expect(storm.worst[0]).toMatchObject({ accountId: 'A025', ratio: '0.9', level: 'LIQUIDATION' });
  });
});

describe('storm mode: updates and hysteresis', () => {
  it('a steady stream keeps the storm on; updates come no faster than every 30 s', () => {
    // The burst, then one account every 2 s for two minutes: 30 per minute, between M = 5 and N = 20.
    const events = [
      ...Array.from({ length: 40 }, (_, i) => ({ intent: crashIntent(i, i * 50), now: i * 50 })),
      ...Array.from({ length: 60 }, (_, k) => ({
        intent: crashIntent(40 + k, 2000 + k * 2000),
        now: 2000 + k * 2000,
      })),
    ];
    const r = run(events);
    const times = r.messages.map((m) => Date.parse(m.at));
    // First at 1 s (A020), then the first alerts at least 30 s after the last message: 32 s, 62 s, 92 s.
    expect(r.messages.map((m) => `${m.kind} ${m.at.slice(17, 19)}`)).toEqual([
      'start 01',
      'update 32',
      'update 02',
      'update 32',
    ]);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(30_000);
    expect(r.state.storm).not.toBeNull();
    expect(r.individual).toHaveLength(20);
  });

  it('ends only below M accounts a window (not merely below N), then alerts resume', () => {
    const p = { ...policy.storm, startAccounts: 10, endAccounts: 3, windowSeconds: 10 };
    const events = [
      ...Array.from({ length: 11 }, (_, i) => ({ intent: crashIntent(i, i * 10), now: i * 10 })),
      // One account every 3 s: 3 or 4 within any 10 s — below N, not below M: the storm stays.
      ...[3, 6, 9, 12, 15, 18, 21, 24].map((s, k) => ({
        intent: crashIntent(20 + k, s * 1000),
        now: s * 1000,
      })),
      { tick: 27_000 }, // 18, 21 and 24 s within (17 s, 27 s]: still on
      { tick: 30_000 }, // 21 and 24 s within (20 s, 30 s]: calm since 28 s (the 3rd latest, 18 s, + 10 s)
    ];
    const r = run(events, p);
    expect(r.messages.map((m) => m.kind)).toEqual(['start', 'end']);
    expect(r.messages[1]!.at).toBe(at(30_000));
    expect(r.messages[1]!.endedAt).toBe(at(28_000));
    expect(r.messages[1]!.storm.accounts).toBe(9);
    expect(accountsInWindow(r.state, T0 + 30_000, p)).toBe(2);
    expect(observe(r.state, crashIntent(50, 35_000), T0 + 35_000, p).kind).toBe('alone');
  });

  it('an alert arriving after calm, with no tick in between, ends the storm first', () => {
    const p = { ...policy.storm, startAccounts: 2, endAccounts: 1, windowSeconds: 5 };
    const r = run(
      [0, 1, 2].map((i) => ({ intent: crashIntent(i, i), now: i })),
      p,
    );
    const step = applyIntent(r.state, r.shares, crashIntent(9, 60_000), T0 + 60_000, p);
    expect(step.messages.map((m) => m.kind)).toEqual(['end']);
    expect(step.absorbed).toBe(false);
    expect(step.messages[0]!.endedAt).toBe(at(5_002));
  });

  it('storm mode switched off: every alert goes on its own, and an active storm ends at once', () => {
    const on = run(Array.from({ length: 25 }, (_, i) => ({ intent: crashIntent(i, i), now: i })));
    expect(on.state.storm).not.toBeNull();
    const off = { ...policy.storm, enabled: false };
    const step = applyIntent(on.state, on.shares, crashIntent(30, 100), T0 + 100, off);
    expect(step.absorbed).toBe(false);
    expect(step.messages.map((m) => m.kind)).toEqual(['end']);
  });

  it('the storm state stays small: no per-account data while a storm lasts; one share per account', () => {
    const r = run(Array.from({ length: 2000 }, (_, i) => ({ intent: crashIntent(i % 500, i), now: i })));
    expect(r.state.recent).toEqual([]);
    expect(JSON.stringify(r.state).length).toBeLessThan(400);
    // A000 … A019 went alone before the storm; each later alert of an account merged into its one share.
    expect(r.shares.size).toBe(500);
    expect(r.snapshot()).toMatchObject({ accounts: 500, intents: 1980 });
    expect(r.snapshot().worst).toHaveLength(10);
  });
});

describe('storm messages', () => {
  const r = run(Array.from({ length: 40 }, (_, i) => ({ intent: crashIntent(i, i * 10), now: i * 10 })));
  const start = r.messages[0]!;

  it('text: counts, exact shortfall, the worst accounts with console links', () => {
    const text = stormText(start, policy.consoleUrl);
    expect(text).toContain('[Margin Guard] MARKET STORM: 1 account(s), shortfall 210.21');
    expect(text).toContain('Accounts: 1 (and 20 alerted one by one just before)');
    expect(text).toContain(
      '1. A020 LIQUIDATION ratio 1.48 shortfall 210.21 https://console.example/#/accounts/A020',
    );
    expect(text).toContain('Console: https://console.example/#/');
  });

  it('Telegram: MarkdownV2 with every special character escaped, links kept', () => {
    const tg = stormTelegram({ ...start, storm: r.snapshot() }, policy.consoleUrl);
    expect(tg).toContain('[A039](https://console.example/#/accounts/A039)');
    expect(tg).toContain('ratio 1\\.461');
    // No unescaped special character outside the link syntax.
    const outsideLinks = tg.replace(/\[[^\]]*\]\([^)]*\)/g, '');
    expect(outsideLinks).not.toMatch(/(?<!\\)[_~`>#+\-=|{}.!]/);
  });

  it('SMS: one segment with the counts, shortfall, worst account and the console link', () => {
    const sms = stormSms({ ...start, storm: r.snapshot() }, policy.consoleUrl);
    // Σ (i + 1) × 10.01 for i = 20 … 39 = 10.01 × 610.
    expect(sms).toBe('MG STORM: 20 accts, shortfall 6106.1, worst A039 1.461 https://console.example/#/');
    expect(sms.length).toBeLessThanOrEqual(160);
  });
});

describe('rate limiter (token bucket, each token back one period after it was spent)', () => {
  const ses = PUBLISHED_LIMITS.email; // 14 a second
  it('a burst up to the count goes at once; the next waits for the first token to come back', () => {
    let buckets: Buckets = {};
    const needs = bucketsFor('email', 'x@y.example', PUBLISHED_LIMITS)!.needs;
    // Normal messages leave the priority reserve (1 of 14) for storm messages and pages.
    for (let i = 0; i < 13; i++) {
      const r = take(buckets, needs, 1000 + i);
      expect(r.ok).toBe(true);
      if (r.ok) buckets = r.buckets;
    }
    expect(take(buckets, needs, 1013)).toEqual({ ok: false, retryAt: 2000 });
    const priority = take(buckets, needs, 1013, true);
    expect(priority.ok).toBe(true);
    if (priority.ok) expect(take(priority.buckets, needs, 1014, true)).toEqual({ ok: false, retryAt: 2000 });
    expect(ses).toEqual({ count: 14, perSeconds: 1 });
  });

  it('Telegram: the bot’s 30/s and a group’s 20/min both hold; a token is taken from both or neither', () => {
    const group = bucketsFor('telegram', '-100', PUBLISHED_LIMITS)!.needs;
    let buckets: Buckets = {};
    for (let i = 0; i < 20; i++) {
      const r = take(buckets, group, i * 100, true);
      expect(r.ok).toBe(true);
      if (r.ok) buckets = r.buckets;
    }
    expect(take(buckets, group, 2000, true)).toEqual({ ok: false, retryAt: 60_000 });
    // The group is full, the bot is not (10 of its 20 tokens are back): a private chat may go.
    expect(buckets.bot).toHaveLength(20);
    expect(take(buckets, bucketsFor('telegram', '4242', PUBLISHED_LIMITS)!.needs, 2000).ok).toBe(true);
    expect(bucketsFor('telegram', '12345', PUBLISHED_LIMITS)!.needs[1]!.limit).toEqual({
      count: 1,
      perSeconds: 1,
    });
    expect(bucketsFor('websocket', '-', PUBLISHED_LIMITS)).toBeNull();
  });
});

// ------------------------------------------------------------------------------------------------
// Properties over random alert streams, through storm mode and the rate limits (the dispatcher's logic).

/** The limit each message counts against: every bucket of its channel and recipient. */
function limitsOf(p: NotificationPolicy, route: string): { key: string; limit: RateLimit }[] {
  if (route === 'alerts-topic' || route === 'pages-topic') return [{ key: route, limit: p.rateLimits.topic }];
  const r = p.routes.find((x) => x.name === route)!;
  const to =
    r.channel === 'telegram'
      ? r.chatId
      : r.channel === 'email'
        ? r.address
        : r.channel === 'sms'
          ? r.phoneNumber
          : '-';
  const b = bucketsFor(r.channel, to, p.rateLimits);
  return (b?.needs ?? []).map((n) => ({ key: `${b!.channel}:${n.key}`, limit: n.limit }));
}

const limitArb = fc.record({
  count: fc.integer({ min: 1, max: 6 }),
  perSeconds: fc.integer({ min: 1, max: 3 }),
});

const scenarioArb = fc
  .record({
    startAccounts: fc.integer({ min: 1, max: 25 }),
    endFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    windowSeconds: fc.integer({ min: 1, max: 90 }),
    updateSeconds: fc.integer({ min: 1, max: 60 }),
    tickSeconds: fc.integer({ min: 1, max: 120 }),
    limits: fc.record({
      email: limitArb,
      sms: limitArb,
      telegram: limitArb,
      telegramGroup: limitArb,
      telegramChat: limitArb,
      webhook: limitArb,
      topic: limitArb,
    }),
    changes: fc.array(
      fc.record({
        at: fc.integer({ min: 0, max: 180_000 }),
        accountId: fc.integer({ min: 0, max: 80 }).map((n) => `P${n}`),
        category: fc.constantFrom(...ALERT_CATEGORIES),
        level: fc.constantFrom<RiskLevel | null>('SAFE', 'WARNING', 'CRITICAL', 'LIQUIDATION', null),
        shortfall: fc
          .integer({ min: 0, max: 10_000_000 })
          .map((c) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`),
        ratio: fc.option(
          fc
            .integer({ min: 1, max: 3000 })
            .map((n) => `${Math.floor(n / 1000)}.${String(n % 1000).padStart(3, '0')}`),
        ),
      }),
      { maxLength: 400 },
    ),
  })
  .map((s) => ({
    ...s,
    policy: notificationPolicySchema.parse({
      routes: [
        { name: 'group', channel: 'telegram', chatId: '-100' },
        { name: 'dm', channel: 'telegram', chatId: '4242' },
        { name: 'mail', channel: 'email', address: 'desk@broker.example' },
        { name: 'chat', channel: 'webhook' },
        { name: 'phone', channel: 'sms', phoneNumber: '+447700900101' },
        { name: 'console', channel: 'websocket' },
      ],
      rules: [{ categories: [...ALERT_CATEGORIES], routes: ['group', 'dm', 'mail', 'chat', 'console'] }],
      onCall: [{ tier: 'primary', routes: ['phone'] }],
      storm: {
        startAccounts: s.startAccounts,
        endAccounts: Math.max(1, Math.floor(s.startAccounts * s.endFraction)),
        windowSeconds: s.windowSeconds,
        updateSeconds: s.updateSeconds,
      },
      rateLimits: s.limits,
    }),
  }));

describe('storm mode and rate limits: properties', () => {
  it('no bucket ever carries more than its limit in any window of its period; nothing is lost', () => {
    fc.assert(
      fc.property(scenarioArb, ({ policy: p, changes, tickSeconds }) => {
        const result = simulateWave(changes as WaveChange[], p, { tickSeconds });
        // Rate limits: in every bucket, message i and message i + count are at least a period apart.
        const byBucket = new Map<string, { limit: RateLimit; times: number[] }>();
        for (const m of result.messages)
          for (const { key, limit } of limitsOf(p, m.route)) {
            const b = byBucket.get(key) ?? { limit, times: [] };
            b.times.push(m.at);
            byBucket.set(key, b);
          }
        for (const { limit, times } of byBucket.values()) {
          times.sort((a, b) => a - b);
          for (let i = 0; i + limit.count < times.length; i++)
            expect(times[i + limit.count]! - times[i]!).toBeGreaterThanOrEqual(limit.perSeconds * 1000);
        }
        // Per channel, per any one-second window: never more than the channel's per-second limit.
        for (const [channel, perSecond] of [
          ['email', p.rateLimits.email],
          ['sms', p.rateLimits.sms],
          ['telegram', p.rateLimits.telegram],
          ['webhook', p.rateLimits.webhook],
        ] as const) {
          const times = result.messages.filter((m) => m.channel === channel).map((m) => m.at);
          const cap = Math.ceil(perSecond.count / perSecond.perSeconds);
          for (let i = 0; i + cap < times.length; i++)
            if (perSecond.perSeconds === 1) expect(times[i + cap]! - times[i]!).toBeGreaterThanOrEqual(1000);
        }
        // Every alert is sent on its own or counted in exactly one storm's final summary.
        const counted = result.summaries.reduce((n, s) => n + s.storm.intents, 0);
        expect(result.individual + counted).toBe(changes.length);
        expect(result.absorbed).toBe(counted);
        expect(result.summaries).toHaveLength(result.storms);
        // No message is sent before it was wanted (deferred, never early).
        for (const m of result.messages) expect(m.at).toBeGreaterThanOrEqual(m.wanted);
      }),
      { numRuns: 300 },
    );
  });
});

describe('capacity: people messages for a wave', () => {
  const wave = (n: number, seconds: number): WaveChange[] =>
    Array.from({ length: n }, (_, i) => ({ at: T0 + Math.floor((i * seconds * 1000) / n) }));

  it('78,000 accounts over 10 s: a handful of messages per route instead of 78,000', () => {
    const counts = peopleMessagesForWave(wave(78_000, 10), policy);
    // Per people route: 20 alerts before the storm, its first message, its final summary (the 300 s tick
    // finds it calm: the pending update goes out as the summary).
    expect(counts).toEqual({
      telegram: 22,
      email: 22,
      webhook: 22,
      // 'critical' alerts do not page: the storm does not either; the console lists every account.
      sms: 0,
      websocket: 78_002,
      'sns-topic': 22,
    });
  });

  it('without storm mode the same channels would need hours to drain', () => {
    const off = notificationPolicySchema.parse({ ...policy, storm: { enabled: false } });
    const r = simulateWave(wave(2_000, 10), off);
    const lastTelegram = r.messages.filter((m) => m.channel === 'telegram').at(-1)!;
    // A Telegram group takes 20 a minute (18 outside the priority reserve): 2,000 alerts take 111 minutes.
    expect(Math.round((lastTelegram.at - T0) / 60_000)).toBe(111);
  });
});
