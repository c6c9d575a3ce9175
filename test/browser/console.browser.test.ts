/// <reference lib="dom" />
// (The DOM types for page.evaluate callbacks: this file is type-checked with the rest of the project.)
import chromium from '@sparticuz/chromium';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsoleServer, type ConsoleServer } from '../../local/console-server.ts';
import { startLocalSystem, type LocalSystem } from '../../local/local-system.ts';
import { loadScenario } from '../../local/scenario.ts';
import type { LocalBus } from '../../local/sinks.ts';
import { parsePricesCsv } from '../../shared/replay/prices-csv.ts';
import { sharedLocalDynamoDb } from '../helpers/dynamodb.ts';

/**
 * The operator console in a real headless Chromium (@sparticuz/chromium from npm, driven by
 * puppeteer-core) against local mode: the real handlers, DynamoDB Local, the local bus and streams.
 * Screenshots go to out/browser/ for people to look at.
 */
const root = join(import.meta.dirname, '..', '..');
const SHOTS = join(root, 'out', 'browser');

let system: LocalSystem;
let server: ConsoleServer;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const scenario = loadScenario(join(root, 'local', 'scenarios', 'crash-2020.json'));
  const bars = parsePricesCsv(
    readFileSync(join(root, 'test', 'fixtures', 'crash-2020.csv'), 'utf8'),
    'crash-2020.csv',
  ).filter((b) => b.date >= '2020-02-14' && b.date <= '2020-03-06');
  system = await startLocalSystem({
    scenario,
    bars,
    outDir: mkdtempSync(join(tmpdir(), 'mg-console-')),
    dynamoDb: sharedLocalDynamoDb('console'),
  });
  server = await startConsoleServer(system, 0);
  await system.replay();
  browser = await puppeteer.launch({
    args: chromium.args,
    executablePath: await chromium.executablePath(),
    headless: true,
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await system?.stop();
});

async function signIn(role: 'operator' | 'viewer', user = role === 'operator' ? 'olivia' : 'victor') {
  // A tab of its own: the session lives in the tab's sessionStorage. (@sparticuz/chromium runs as a
  // single process, which has no incognito contexts.)
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  page.on('pageerror', (e) => {
    throw e;
  });
  await page.goto(server.url);
  await page.waitForSelector('#dev-login');
  await page.$eval('input[name=user]', (el, u) => ((el as HTMLInputElement).value = u), user);
  await page.select('select[name=role]', role);
  await page.click('#dev-login button[type=submit]');
  await page.waitForSelector('#app[data-ready=true][data-view=overview]');
  await page.waitForSelector('#live[data-state=open]');
  return page;
}

async function openAccount(page: Page, id: string) {
  await page.evaluate((a) => (location.hash = `#/accounts/${a}`), id);
  await page.waitForSelector('#app[data-ready=true][data-view=account]');
  await page.waitForSelector('#audit tbody tr');
}

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

describe('operator console in headless Chromium', () => {
  it('the overview lists every account of the local run with its level, worst first', async () => {
    const page = await signIn('operator');
    await page.waitForSelector('#accounts tbody tr');
    const rows = await page.$$eval('#accounts tbody tr', (trs) =>
      trs.map((tr) => ({
        id: (tr as HTMLElement).dataset.account!,
        level: tr.querySelector('.level')!.textContent,
        ratio: tr.querySelector('[data-cell=ratio]')!.textContent,
      })),
    );
    const expected = await Promise.all(
      rows.map(async (r) => (await system.api.repo.getRiskState(r.id))!.level),
    );
    expect(rows.map((r) => r.id).sort()).toEqual(
      ['CASH-1', 'CRYPTO-PERP', 'GROSS-PAIR', 'LEV-5X', 'PM-HEDGED', 'REGT-2X'].sort(),
    );
    expect(rows.map((r) => r.level)).toEqual(expected);
    expect(new Set(expected).size).toBeGreaterThan(1);
    const severity = ['LIQUIDATION', 'CRITICAL', 'WARNING', 'SAFE'];
    const order = rows.map((r) => severity.indexOf(r.level!));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // Summary cards and the heatmap cover the same accounts.
    expect(await page.$$eval('.tile', (t) => t.length)).toBe(6);
    expect(await page.$eval('.card[data-level=SAFE] .value', (e) => e.textContent)).toBe(
      String(expected.filter((l) => l === 'SAFE').length),
    );
    await shot(page, 'overview');
    await page.close();
  });

  it('a price tick moves a row and the drill-down chart live over the WebSocket, without a reload', async () => {
    const overview = await signIn('operator');
    const page = await signIn('operator');
    await openAccount(page, 'REGT-2X');
    await page.waitForSelector('#live[data-state=open]');
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    const before = await page.$eval('#ratio-chart', (c) => Number((c as HTMLElement).dataset.points));
    const ratioBefore = await page.$eval('[data-figure="Margin ratio"]', (e) => e.textContent);
    const rowBefore = await overview.$eval(
      'tr[data-account=REGT-2X] [data-cell=ratio]',
      (e) => e.textContent,
    );

    const spy = (await system.api.repo.getPrices(['SPY'])).get('SPY')!.price;
    // A 6% fall: enough to cross REGT-2X's guard band and be written (a level or ratio move).
    await system.tick('SPY', (Number(spy) * 0.94).toFixed(2));

    await page.waitForFunction(
      (n) => Number((document.querySelector('#ratio-chart') as HTMLElement).dataset.points) > n,
      { timeout: 15_000 },
      before,
    );
    const ratioAfter = await page.$eval('[data-figure="Margin ratio"]', (e) => e.textContent);
    expect(ratioAfter).not.toBe(ratioBefore);
    expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(42);
    await overview.waitForFunction(
      (old) => document.querySelector('tr[data-account=REGT-2X] [data-cell=ratio]')?.textContent !== old,
      { timeout: 15_000 },
      rowBefore,
    );
    expect(await overview.$eval('tr[data-account=REGT-2X] [data-cell=ratio]', (e) => e.textContent)).toBe(
      ratioAfter,
    );
    await shot(page, 'account-after-tick');
    await shot(overview, 'overview-after-tick');
    await overview.close();
    await page.close();
  });

  it('an operator places a hold and sees it in the audit trail, with who placed it', async () => {
    const page = await signIn('operator', 'olivia');
    await openAccount(page, 'PM-HEDGED');
    await page.type('#hold-reason', 'client is wiring funds');
    await page.click('#place-hold');
    await page.waitForSelector('#audit tbody tr[data-action=hold]', { timeout: 15_000 });
    const row = await page.$eval('#audit tbody tr[data-action=hold]', (tr) => tr.textContent);
    // The person who signed in, from the login's signed token: not the role, not a body field.
    expect(row).toContain('olivia (dev:olivia)');
    expect(row).toContain('client is wiring funds');
    expect(await page.$eval('#level', (e) => e.textContent)).toContain('on hold');
    expect((await system.api.actions.getHold('PM-HEDGED'))?.by).toBe('olivia (dev:olivia)');
    const audit = await system.api.actions.listAudit('PM-HEDGED');
    expect(audit.find((a) => a.action === 'hold')?.actor).toBe('olivia (dev:olivia)');
    await shot(page, 'hold-placed');
    await page.click('#release-hold');
    await page.waitForSelector('#audit tbody tr[data-action=hold-released]', { timeout: 15_000 });
    await page.close();
  });

  it('a viewer cannot: the controls are disabled and the API refuses the write', async () => {
    const page = await signIn('viewer');
    await openAccount(page, 'GROSS-PAIR');
    expect(await page.$eval('#protection-body', (e) => e.textContent)).toContain('read-only');
    expect(await page.$eval('#place-hold', (b) => (b as HTMLButtonElement).disabled)).toBe(true);
    expect(await page.$eval('#preview-order', (b) => (b as HTMLButtonElement).disabled)).toBe(true);
    const attempt = await page.evaluate(async () => {
      const { token } = JSON.parse(sessionStorage.getItem('margin-guard-dev-session')!);
      const res = await fetch('/api/accounts/GROSS-PAIR/hold', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'sneaky' }),
      });
      return { status: res.status, body: await res.json() };
    });
    expect(attempt).toEqual({
      status: 403,
      body: { error: 'forbidden', message: 'viewer may not POST /accounts/GROSS-PAIR/hold' },
    });
    expect(await system.api.actions.getHold('GROSS-PAIR')).toBeNull();
    // Nor a deleverage, even with a real plan id from a preview a viewer may read.
    const refused = await page.evaluate(async () => {
      const { token } = JSON.parse(sessionStorage.getItem('margin-guard-dev-session')!);
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const plan = await (await fetch('/api/accounts/GROSS-PAIR/plan', { headers })).json();
      const res = await fetch('/api/accounts/GROSS-PAIR/deleverage', {
        method: 'POST',
        headers,
        body: JSON.stringify({ planId: plan.planId, reason: 'sneaky' }),
      });
      return res.status;
    });
    expect(refused).toBe(403);
    expect(await page.$eval('#confirm-order', () => true).catch(() => false)).toBe(false);
    await shot(page, 'viewer-read-only');
    await page.close();
  });

  it('a manual deleverage shows the plan first; a double click on Confirm publishes exactly one request, named by its operator', async () => {
    const bus = system.api.publisher as LocalBus;
    const requested = () =>
      bus.published.filter(
        (e) => e.detailType === 'DeleverageRequested' && e.detail.requestedBy === 'manual',
      );
    const page = await signIn('operator', 'dora');
    const posts: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().includes('/deleverage')) posts.push(r.postData() ?? '');
    });
    await openAccount(page, 'GROSS-PAIR');
    await page.type('#order-form input[name=targetRatio]', '6');
    await page.type('#order-form input[name=reason]', 'desk reduces the pair before the close');
    await page.click('#preview-order');
    await page.waitForSelector('#plan-orders tbody tr');
    const plan = await page.$eval('.plan', (e) => e.textContent);
    expect(plan).toMatch(/projected \d+\.\d{3}/);
    expect(plan).toContain('target 6.000');
    const planId = await page.$eval('.plan', (e) => (e as HTMLElement).dataset.planId);
    expect(planId).toMatch(/^plan-/);
    const orders = await page.$$eval('#plan-orders tbody tr', (trs) => trs.map((tr) => tr.textContent));
    expect(orders.length).toBeGreaterThan(0);
    await shot(page, 'deleverage-plan');
    expect(requested()).toHaveLength(0);

    // A double click, at its tightest: two clicks on the button in one task, before the first request
    // can answer or the page can move (a mouse double click could miss once the label changes).
    await page.$eval('#confirm-order', (b) => {
      (b as HTMLButtonElement).click();
      (b as HTMLButtonElement).click();
    });
    await page.waitForSelector('#plan-preview .notice.ok', { timeout: 15_000 });
    expect(posts).toHaveLength(1);
    expect(JSON.parse(posts[0]!)).toMatchObject({ planId, reason: 'desk reduces the pair before the close' });
    expect(requested()).toHaveLength(1);
    expect(requested()[0]!.detail).toMatchObject({ accountId: 'GROSS-PAIR', targetRatio: '6' });
    expect((requested()[0]!.detail as { orders: unknown[] }).orders).toHaveLength(orders.length);
    await page.waitForSelector('#audit tbody tr[data-action=manual-deleverage]', { timeout: 15_000 });
    const row = await page.$eval('#audit tbody tr[data-action=manual-deleverage]', (tr) => tr.textContent);
    expect(row).toContain('dora (dev:dora)');
    await shot(page, 'deleverage-sent');

    // A retry of the same decision (another tab, a resent request) is the same request: nothing more.
    const again = await page.evaluate(async (body) => {
      const { token } = JSON.parse(sessionStorage.getItem('margin-guard-dev-session')!);
      const res = await fetch('/api/accounts/GROSS-PAIR/deleverage', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
      });
      return { status: res.status, body: await res.json() };
    }, posts[0]!);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ planId, status: 'published' });
    expect(requested()).toHaveLength(1);
    await page.close();
  });

  it('a plan the prices have overtaken is refused: nothing is sent, a fresh plan is shown to confirm', async () => {
    const bus = system.api.publisher as LocalBus;
    const requested = () =>
      bus.published.filter(
        (e) => e.detailType === 'LiquidationRequested' && e.detail.requestedBy === 'manual',
      );
    const page = await signIn('operator', 'olivia');
    await openAccount(page, 'CASH-1');
    await page.select('#order-form select[name=kind]', 'liquidate');
    await page.type('#order-form input[name=reason]', 'compliance closes the account');
    await page.click('#preview-order');
    await page.waitForSelector('#plan-orders tbody tr');
    const first = await page.$eval('.plan', (e) => (e as HTMLElement).dataset.planId);
    // The market moves between the preview and the confirmation.
    const instruments = (await system.api.repo.getPositions('CASH-1')).map((p) => p.instrument);
    const prices = await system.api.repo.getPrices(instruments);
    const [instrument, { price }] = [...prices.entries()][0]!;
    await system.tick(instrument, (Number(price) * 0.99).toFixed(2));
    await page.click('#confirm-order');
    await page.waitForSelector('#plan-preview .notice.error', { timeout: 15_000 });
    expect(await page.$eval('#plan-preview .notice.error', (e) => e.textContent)).toContain(
      'nothing was sent',
    );
    const fresh = await page.$eval('.plan', (e) => (e as HTMLElement).dataset.planId);
    expect(fresh).not.toBe(first);
    expect(requested()).toHaveLength(0);
    await shot(page, 'plan-stale');
    await page.click('#confirm-order');
    await page.waitForSelector('#plan-preview .notice.ok', { timeout: 15_000 });
    expect(requested()).toHaveLength(1);
    await page.close();
  });
});
