import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DeliveryRecord } from '../../functions/lib/dispatcher.ts';
import { runLocal, startLocalSystem } from '../../local/local-system.ts';
import { loadScenario } from '../../local/scenario.ts';
import { parsePricesCsv } from '../../shared/replay/prices-csv.ts';
import { callApi } from '../helpers/api-call.ts';
import { sharedLocalDynamoDb } from '../helpers/dynamodb.ts';

const root = join(import.meta.dirname, '..', '..');
const allBars = parsePricesCsv(
  readFileSync(join(root, 'test', 'fixtures', 'crash-2020.csv'), 'utf8'),
  'crash-2020.csv',
);
const bars = (from: string, to: string) => allBars.filter((b) => b.date >= from && b.date <= to);

function scenarioOf(ids: string[]) {
  const scenario = loadScenario(join(root, 'local', 'scenarios', 'crash-2020.json'));
  scenario.accounts = scenario.accounts.filter((a) => ids.includes((a.account as { id: string }).id));
  return scenario;
}

const deliveriesIn = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as DeliveryRecord & { channel?: string })
    .filter((r) => r.channel !== 'sns-topic');
/** What the simulated channels received (recipient and text with its links): the log never has them. */
const inbox = (file: string, r: { alertId: string; route?: string }) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { alertId: string; route: string; to: string; text: string })
    .find((m) => m.alertId === r.alertId && m.route === r.route)!;

describe('notifications in local mode (real dispatcher, paging workflow and DynamoDB Local)', () => {
  it('the 2020 crash: REGT-2X hears one warning as it flaps around 2.0 (two more suppressed), and one recovery', async () => {
    const result = await runLocal({
      scenario: scenarioOf(['REGT-2X']),
      bars: bars('2020-02-20', '2020-03-27'),
      outDir: mkdtempSync(join(tmpdir(), 'mg-notify-')),
      dynamoDb: sharedLocalDynamoDb('notify'),
    });
    expect(result.notifications['REGT-2X']).toMatchObject({
      // Predictive: within 5% above the next worse threshold, at most once per (5-day) quiet period.
      approaching: { sent: expect.any(Number) },
      warning: { sent: 1, suppressed: 2 },
      recovery: { sent: 1, suppressed: 2 },
      deleverage: { sent: 1, suppressed: 0 },
    });
    const warnings = deliveriesIn(result.files.notifications).filter(
      (r) => r.accountId === 'REGT-2X' && r.category === 'warning' && r.status === 'sent',
    );
    // One alert, delivered to each of its routes (console and the desk's Telegram chat).
    expect(warnings.map((r) => r.route).sort()).toEqual(['console', 'risk-desk']);
    expect(warnings.find((r) => r.route === 'risk-desk')!.text).toContain(
      '*\\[Margin Guard\\] account REGT\\-2X is WARNING*',
    );
  }, 120_000);

  it('an unacknowledged page escalates primary → secondary → head of risk, one rung per wait, none twice', async () => {
    // LEV-5X is liquidated on 27 Feb: a page. Nobody acknowledges it.
    const result = await runLocal({
      scenario: scenarioOf(['LEV-5X']),
      bars: bars('2020-02-20', '2020-03-06'),
      outDir: mkdtempSync(join(tmpdir(), 'mg-notify-')),
      dynamoDb: sharedLocalDynamoDb('notify'),
    });
    const pages = deliveriesIn(result.files.notifications).filter((r) => r.page && r.status === 'sent');
    expect(pages.map((r) => `${r.at.slice(0, 10)} ${r.page!.tier} ${r.channel} ${r.route}`)).toEqual([
      '2020-02-27 primary sms primary-sms',
      '2020-02-28 secondary sms secondary-sms',
      '2020-03-02 head of risk email head-of-risk',
    ]);
    expect(pages.map((r) => inbox(result.files.outbox, r).to)).toEqual([
      '+447700900101',
      '+447700900102',
      'head.of.risk@broker.example',
    ]);
    expect(new Set(pages.map((r) => r.page!.pageId)).size).toBe(1);
    // Every page carries a one-click acknowledgement link; the log says only that there was one.
    expect(inbox(result.files.outbox, pages[0]!).text).toMatch(
      /Ack: http:\/\/127\.0\.0\.1:8080\/api\/ack\?token=/,
    );
    expect(pages[0]!.text).toContain('Ack: [ack link]');
    const timeline = result.timeline
      .filter((e) => e.accountId === 'LEV-5X')
      .map((e) => `${e.date} ${e.text}`);
    expect(timeline).toContain('2020-02-28 unacknowledged: escalated to secondary');
    expect(timeline).toContain('2020-03-03 no one acknowledged: ladder exhausted');
  }, 120_000);

  it('an acknowledgement (the one-click link) stops the escalation and is audited with who and when', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'mg-notify-'));
    const system = await startLocalSystem({
      scenario: scenarioOf(['LEV-5X']),
      bars: bars('2020-02-20', '2020-02-27'),
      outDir,
      dynamoDb: sharedLocalDynamoDb('notify'),
    });
    try {
      const result = await system.replay();
      const first = deliveriesIn(result.files.notifications).find((r) => r.page && r.status === 'sent')!;
      expect(first.page!.tier).toBe('primary');
      const token = /token=([^\s]+)/.exec(inbox(result.files.outbox, first).text)![1]!;
      // The link is public: no credentials, only the signed, expiring token. Opening it acknowledges
      // nothing: it shows a confirmation page whose form posts the token.
      const shown = await callApi(system.api, 'GET', '/ack', { query: { token } });
      expect(shown.status).toBe(200);
      expect(shown.body).toContain('Acknowledge this page?');
      expect(shown.body).toContain(`name="token" value="${token}"`);
      const ack = await callApi(system.api, 'POST', '/ack', {
        body: new URLSearchParams({ token }).toString(),
      });
      expect(ack.status).toBe(200);
      expect(ack.body).toContain('Page for account LEV-5X acknowledged (link:sms:primary-sms');
      // A forged token is refused; the same link again is a replay.
      expect((await callApi(system.api, 'GET', '/ack', { query: { token: `${token}x` } })).status).toBe(403);
      const replay = await callApi(system.api, 'POST', '/ack', {
        body: new URLSearchParams({ token }).toString(),
      });
      expect(replay.status).toBe(409);
      expect(replay.body).toContain('ack-link-replayed');
      // The ladder's next rung comes with the next tick: acknowledged, it stops; nobody else is paged.
      const spy = (await system.api.repo.getPrices(['SPY'])).get('SPY')!.price;
      await system.tick('SPY', spy);
      await system.tick('SPY', spy);
      const pages = deliveriesIn(result.files.notifications).filter((r) => r.page && r.status === 'sent');
      expect(pages.map((r) => r.page!.tier)).toEqual(['primary']);
      const audit = await system.api.actions.listAudit('LEV-5X');
      expect(audit.find((a) => a.action === 'page-acknowledged')).toMatchObject({
        actor: 'link:sms:primary-sms',
        details: { pageId: first.page!.pageId, tier: 0, via: 'link', route: 'primary-sms', channel: 'sms' },
      });
      // Acknowledging again (the REST route) says who already did.
      const again = await callApi(system.api, 'POST', '/pages/{id}/ack', { id: first.page!.pageId });
      expect(again.body).toMatchObject({ first: false, ackedBy: 'link:sms:primary-sms' });
      // A manual action is a notification of its own category, with who did it.
      await callApi(system.api, 'POST', '/accounts/{id}/hold', {
        id: 'LEV-5X',
        body: { reason: 'desk is on it' },
      });
      const manual = deliveriesIn(result.files.notifications).filter((r) => r.category === 'manual-action');
      expect(manual.map((r) => `${r.route} ${r.status}`)).toEqual(['console sent', 'risk-desk sent']);
      expect(manual[1]!.text).toContain(
        'hold placed \\(desk is on it\\) on account LEV\\-5X by api:arn:aws:iam',
      );
    } finally {
      await system.stop();
    }
  }, 120_000);
});
