import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../shared/notify/alert.ts';
import { Decimal } from '../../../shared/decimal.ts';
import type { AckRefusedError } from '../../../shared/errors.ts';
import { decodeAckClaims, encodeAckClaims, signAck, verifyAck } from '../../../shared/notify/ack-token.ts';
import { approachingAlert } from '../../../shared/notify/approaching.ts';
import { decide, NO_MEMORY, type AlertMemory } from '../../../shared/notify/fatigue.ts';
import { firstStep, nextStep, type PageState } from '../../../shared/notify/ladder.ts';
import { notificationPolicySchema } from '../../../shared/notify/policy.ts';
import { escapeMarkdownV2, smsText, telegramText } from '../../../shared/notify/render.ts';
import { heldUntil, pages, routesFor } from '../../../shared/notify/routing.ts';
import { InputError, parseOrThrow } from '../../../shared/errors.ts';

const policy = notificationPolicySchema.parse({
  routes: [
    {
      name: 'desk-telegram',
      channel: 'telegram',
      chatId: '-100123',
      quietHours: { start: '22:00', end: '07:00', timeZone: 'Europe/London' },
    },
    { name: 'primary-sms', channel: 'sms', phoneNumber: '+447700900123' },
    { name: 'secondary-sms', channel: 'sms', phoneNumber: '+447700900456' },
    { name: 'head-email', channel: 'email', address: 'head.of.risk@broker.example' },
    { name: 'compliance', channel: 'email', address: 'compliance@broker.example', digest: true },
  ],
  rules: [
    { categories: ['warning', 'recovery'], routes: ['desk-telegram', 'compliance'] },
    {
      categories: ['critical', 'liquidation-approaching', 'liquidation'],
      minSeverity: 'warning',
      routes: ['desk-telegram'],
    },
  ],
  onCall: [
    { tier: 'primary', routes: ['primary-sms'], ackMinutes: 10, pagesPerTier: 2 },
    { tier: 'secondary', routes: ['secondary-sms'], ackMinutes: 15, pagesPerTier: 1 },
    { tier: 'head of risk', routes: ['head-email'], ackMinutes: 30, pagesPerTier: 1 },
  ],
});

const alert = (over: Partial<Alert> = {}): Alert => ({
  id: 'a1',
  category: 'warning',
  severity: 'warning',
  accountId: 'REGT-2X',
  incidentId: 'REGT-2X:risk:1',
  level: 'WARNING',
  marginRatio: '1.959762291201',
  callMove: '-0.239612',
  headline: 'account REGT-2X is WARNING',
  next: 're-check in 300s',
  at: '2020-02-25T21:00:00.000Z',
  ...over,
});

describe('notification policy', () => {
  it('names a bad phone number and a rule pointing at no route', () => {
    expect(() =>
      parseOrThrow(notificationPolicySchema, {
        routes: [{ name: 'x', channel: 'sms', phoneNumber: '07700 900123' }],
        rules: [{ categories: ['warning'], routes: ['nope'] }],
      }),
    ).toThrow(InputError);
    try {
      parseOrThrow(notificationPolicySchema, {
        routes: [{ name: 'x', channel: 'sms', phoneNumber: '07700 900123' }],
        rules: [{ categories: ['warning'], routes: ['nope'] }],
      });
    } catch (e) {
      expect((e as InputError).issues.map((i) => i.field)).toEqual(
        expect.arrayContaining(['routes[0].phoneNumber']),
      );
    }
    expect(() =>
      parseOrThrow(notificationPolicySchema, {
        routes: [{ name: 'x', channel: 'webhook' }],
        rules: [{ categories: ['warning'], routes: ['nope'] }],
      }),
    ).toThrow(/rules\[0\]\.routes\[0\]: no route named nope/);
  });
});

describe('routing', () => {
  it('sends each category to its rules’ routes, respecting the minimum severity; pages critical ones', () => {
    expect(routesFor(alert(), policy).map((r) => r.name)).toEqual(['desk-telegram', 'compliance']);
    expect(routesFor(alert({ category: 'critical', severity: 'info' }), policy)).toEqual([]);
    expect(pages(alert(), policy)).toBe(false);
    expect(pages(alert({ category: 'liquidation-approaching', severity: 'critical' }), policy)).toBe(true);
  });

  it('holds non-critical alerts in quiet hours until they end, across midnight and time zones', () => {
    const telegram = policy.routes[0]!;
    // 23:30 UTC on 25 Feb is 23:30 in London (GMT): held until 07:00 London = 07:00 UTC next day.
    expect(heldUntil(telegram, { severity: 'warning' }, new Date('2020-02-25T23:30:00Z'))).toEqual(
      new Date('2020-02-26T07:00:00Z'),
    );
    // 05:15 UTC on 16 July is 06:15 in London (BST): held 45 minutes, until 06:00 UTC.
    expect(heldUntil(telegram, { severity: 'info' }, new Date('2020-07-16T05:15:00Z'))).toEqual(
      new Date('2020-07-16T06:00:00Z'),
    );
    expect(heldUntil(telegram, { severity: 'warning' }, new Date('2020-02-25T12:00:00Z'))).toBeNull();
    expect(heldUntil(telegram, { severity: 'critical' }, new Date('2020-02-25T23:30:00Z'))).toBeNull();
  });
});

describe('alert fatigue', () => {
  // REGT-2X in the 2020 crash: WARNING 25 Feb, SAFE 13 Mar, WARNING 16 Mar, SAFE 17 Mar, WARNING 18 Mar,
  // SAFE 25 Mar; a 5-day quiet period (daily bars).
  it('one warning per episode while the account flaps around the line; one recovery for what was said', () => {
    const quiet = 5 * 1440;
    let memory: AlertMemory = NO_MEMORY;
    const sent: string[] = [];
    for (const [category, at] of [
      ['warning', '2020-02-25T21:00:00Z'],
      ['recovery', '2020-03-13T21:00:00Z'],
      ['warning', '2020-03-16T21:00:00Z'],
      ['recovery', '2020-03-17T21:00:00Z'],
      ['warning', '2020-03-18T21:00:00Z'],
      ['recovery', '2020-03-25T21:00:00Z'],
    ] as const) {
      const d = decide(memory, { category, at }, quiet);
      memory = d.memory;
      if (d.send) sent.push(`${at.slice(0, 10)} ${category}`);
    }
    expect(sent).toEqual(['2020-02-25 warning', '2020-03-13 recovery']);
    expect(memory.suppressed).toBe(4);
  });

  it('a worse level alerts within the episode; after the quiet period a new episode alerts again', () => {
    let d = decide(NO_MEMORY, { category: 'warning', at: '2020-03-01T00:00:00Z' }, 60);
    expect(d.send).toBe(true);
    d = decide(d.memory, { category: 'critical', at: '2020-03-01T01:00:00Z' }, 60);
    expect(d.send).toBe(true);
    d = decide(d.memory, { category: 'recovery', at: '2020-03-01T02:00:00Z' }, 60);
    expect(d.send).toBe(true);
    // SAFE for 59 minutes: same episode, no second warning.
    expect(decide(d.memory, { category: 'warning', at: '2020-03-01T02:59:00Z' }, 60).send).toBe(false);
    // SAFE for an hour: a new episode.
    expect(decide(d.memory, { category: 'warning', at: '2020-03-01T03:00:00Z' }, 60).send).toBe(true);
    // Actions are never held back here.
    expect(decide(d.memory, { category: 'deleverage', at: '2020-03-01T02:01:00Z' }, 60).send).toBe(true);
  });
});

describe('on-call ladder', () => {
  const page = (tier: number, attempt: number, acked = false): PageState => ({
    pageId: 'p1',
    alertId: 'a1',
    accountId: 'A',
    incidentId: 'i',
    createdAt: 't',
    tier,
    attempt,
    ackedBy: acked ? 'olivia' : null,
    ackedAt: acked ? '2020-01-01T00:00:00Z' : null,
  });
  it('pages primary twice, then secondary once, then the head of risk, then is exhausted; an ack stops it', () => {
    expect(firstStep(policy)).toMatchObject({
      kind: 'page',
      tier: 0,
      attempt: 1,
      routes: ['primary-sms'],
      waitMinutes: 10,
    });
    expect(nextStep(page(0, 1), policy)).toMatchObject({ kind: 'page', tier: 0, attempt: 2 });
    expect(nextStep(page(0, 2), policy)).toMatchObject({
      kind: 'page',
      tier: 1,
      attempt: 1,
      tierName: 'secondary',
      waitMinutes: 15,
    });
    expect(nextStep(page(1, 1), policy)).toMatchObject({ kind: 'page', tier: 2, routes: ['head-email'] });
    expect(nextStep(page(2, 1), policy)).toEqual({ kind: 'exhausted', tiers: 3 });
    expect(nextStep(page(0, 1, true), policy)).toEqual({
      kind: 'acknowledged',
      by: 'olivia',
      at: '2020-01-01T00:00:00Z',
    });
  });
});

describe('acknowledgement links', () => {
  it('verify while valid; a tampered or expired link is refused with its code', () => {
    const recipient = { route: 'primary', channel: 'sms', address: '+447700900101' } as const;
    const token = signAck(
      { pageId: 'page-1', recipient, expiresAt: new Date('2020-03-01T01:00:00Z') },
      'secret',
    );
    expect(verifyAck(token, 'secret', new Date('2020-03-01T00:59:00Z'))).toMatchObject({
      pageId: 'page-1',
      route: 'primary',
      channel: 'sms',
    });
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as AckRefusedError).code;
      }
    };
    expect(code(() => verifyAck(token, 'secret', new Date('2020-03-01T01:00:01Z')))).toBe('ack-link-expired');
    expect(code(() => verifyAck(token, 'other', new Date('2020-03-01T00:00:00Z')))).toBe('ack-link-tampered');
    const [payload, mac, kid] = token.split('.');
    const forged = `${encodeAckClaims({ ...decodeAckClaims(payload!)!, pageId: 'page-2' })}.${mac}.${kid}`;
    expect(code(() => verifyAck(forged, 'secret', new Date('2020-03-01T00:00:00Z')))).toBe(
      'ack-link-tampered',
    );
  });
});

describe('rendering', () => {
  it('escapes every MarkdownV2 special character for Telegram', () => {
    expect(escapeMarkdownV2('a_b*c[d]e(f)g~h`i>j#k+l-m=n|o{p}q.r!s\\t')).toBe(
      'a\\_b\\*c\\[d\\]e\\(f\\)g\\~h\\`i\\>j\\#k\\+l\\-m\\=n\\|o\\{p\\}q\\.r\\!s\\\\t',
    );
    const text = telegramText(alert({ accountId: 'ACC_1.2' }), { ack: 'https://x.example/ack?token=a.b' });
    expect(text).toContain('ACC\\_1\\.2');
    expect(text).toContain('[Acknowledge](https://x.example/ack?token=a.b)');
  });

  it('keeps an SMS within one 160-character segment, dropping details before the ack link', () => {
    const ack = `https://api.example.com/prod/ack?token=${'x'.repeat(60)}`;
    const sms = smsText(alert({ done: 'SELL 100 SPY, BUY 15 SH, and a long explanation of the plan' }), {
      ack,
    });
    expect(sms.length).toBeLessThanOrEqual(160);
    expect(sms).toContain(ack);
    expect(sms).toMatch(/^MG WARNING REGT-2X: ratio 1\.96, call -24%\. Ack: /);
  });
});

describe('predictive (approaching) alerts', () => {
  const thresholds = {
    warning: new Decimal('2.0'),
    critical: new Decimal('1.5'),
    liquidation: new Decimal('1.2'),
    hysteresis: new Decimal('0.05'),
  };
  const state = (level: 'SAFE' | 'WARNING' | 'LIQUIDATION', marginRatio: string | null) => ({
    accountId: 'REGT-2X',
    level,
    marginRatio,
    evaluatedAt: '2020-02-03T21:00:00.000Z',
    callMove: '-0.3',
    incidentId: null,
  });
  it('fires when the ratio is within the fraction above the next worse threshold, by hand', () => {
    // SAFE at 2.032: (2.032 − 2.0) / 2.0 = 1.6% < 5%.
    expect(approachingAlert(state('SAFE', '2.032'), thresholds, new Decimal('0.05'))).toMatchObject({
      category: 'approaching',
      severity: 'info',
      headline: 'account REGT-2X is approaching WARNING (ratio 2.032, 1.6% above 2)',
    });
    // SAFE at 2.1: exactly 5% — not inside.
    expect(approachingAlert(state('SAFE', '2.1'), thresholds, new Decimal('0.05'))).toBeNull();
    // WARNING at 1.55: 3.3% above critical 1.5 — a warning-severity alert.
    expect(approachingAlert(state('WARNING', '1.55'), thresholds, new Decimal('0.05'))).toMatchObject({
      severity: 'warning',
      next: 'CRITICAL below a ratio of 1.5',
    });
    expect(approachingAlert(state('LIQUIDATION', '1.1'), thresholds, new Decimal('0.05'))).toBeNull();
    expect(approachingAlert(state('SAFE', null), thresholds, new Decimal('0.05'))).toBeNull();
  });

  it('is sent once per quiet period and neither opens nor closes an episode', () => {
    let d = decide(NO_MEMORY, { category: 'approaching', at: '2020-03-01T00:00:00Z' }, 60);
    expect(d.send).toBe(true);
    expect(decide(d.memory, { category: 'approaching', at: '2020-03-01T00:59:00Z' }, 60).send).toBe(false);
    expect(decide(d.memory, { category: 'approaching', at: '2020-03-01T01:00:00Z' }, 60).send).toBe(true);
    // The warning that follows is still the episode's first.
    d = decide(d.memory, { category: 'warning', at: '2020-03-01T00:30:00Z' }, 60);
    expect(d.send).toBe(true);
  });
});
