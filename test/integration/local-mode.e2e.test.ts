import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runLocal } from '../../local/local-system.ts';
import { renderReport } from '../../local/report-html.ts';
import { loadScenario } from '../../local/scenario.ts';
import { parsePricesCsv } from '../../shared/replay/prices-csv.ts';
import { sharedLocalDynamoDb } from '../helpers/dynamodb.ts';

const root = join(import.meta.dirname, '..', '..');

describe('local mode end to end (short crash window)', () => {
  it('escalates in order on the real handlers and state machine, and writes JSONL sinks and a report', async () => {
    const scenario = loadScenario(join(root, 'local', 'scenarios', 'crash-2020.json'));
    scenario.accounts = scenario.accounts.filter((a) =>
      ['LEV-5X', 'REGT-2X', 'CASH-1'].includes((a.account as { id: string }).id),
    );
    const bars = parsePricesCsv(
      readFileSync(join(root, 'test', 'fixtures', 'crash-2020.csv'), 'utf8'),
      'crash-2020.csv',
    ).filter((b) => b.date >= '2020-02-20' && b.date <= '2020-03-16');
    const outDir = mkdtempSync(join(tmpdir(), 'mg-local-'));
    const result = await runLocal({ scenario, bars, outDir, dynamoDb: sharedLocalDynamoDb('e2e') });

    const lev = result.timeline.filter((e) => e.accountId === 'LEV-5X').map((e) => `${e.date} ${e.kind}`);
    // 5x long: CRITICAL on the first leg down → alert → deleverage → broker fill → … → LIQUIDATION → call,
    // liquidation, page, fill.
    const order = (kind: string) => lev.findIndex((l) => l.endsWith(` ${kind}`));
    expect(order('alert')).toBeGreaterThanOrEqual(0);
    expect(order('alert')).toBeLessThan(order('deleverage'));
    expect(order('deleverage')).toBeLessThan(order('fill'));
    expect(order('fill')).toBeLessThan(order('liquidation'));
    expect(order('margin-call')).toBeLessThan(order('liquidation'));
    expect(lev.slice(order('liquidation'))).toEqual(
      expect.arrayContaining([expect.stringMatching(/ page$/), expect.stringMatching(/ fill$/)]),
    );
    expect(lev).toContain('2020-02-25 deleverage');
    expect(lev).toContain('2020-02-27 liquidation');

    // Reg T 2x: warned, then deleveraged back to SAFE on the 12 March crash, never called.
    const regt = result.timeline.filter((e) => e.accountId === 'REGT-2X');
    expect(regt.find((e) => e.kind === 'deleverage')?.date).toBe('2020-03-12');
    expect(regt.some((e) => e.kind === 'margin-call')).toBe(false);
    // The cash account has nothing to escalate.
    expect(result.timeline.filter((e) => e.accountId === 'CASH-1').map((e) => e.kind)).toEqual(['level']);

    expect(result.executions.every((e) => e.status === 'SUCCEEDED' || e.status === 'ABORTED')).toBe(true);
    expect(result.eventCounts).toMatchObject({
      DeleverageRequested: 2,
      LiquidationRequested: 1,
      MarginCallTriggered: 1,
    });
    const events = readFileSync(result.files.events, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.every((e) => e.source === 'margin-guard' && e.detail.schemaVersion === '1')).toBe(true);
    const pages = readFileSync(result.files.notifications, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((n) => n.topic === 'pages');
    expect(pages[0].attributes).toMatchObject({ severity: 'critical', accountId: 'LEV-5X' });
    expect(readFileSync(result.files.deadLetters, 'utf8')).toBe('');
    expect(result.series['LEV-5X']).toHaveLength(bars.length);

    const html = renderReport({
      title: 't',
      series: result.series,
      thresholds: result.thresholds,
      timeline: result.timeline,
      eventCounts: result.eventCounts,
    });
    expect(html.match(/<svg /g)).toHaveLength(3);
    expect(html).toContain('LIQUIDATION requested');
  }, 180_000);
});

describe('local mode on OHLC bars (real BTC, March 2020)', () => {
  // Gross model, long 1 BTC-PERP with 3,000 borrowed: ratio (p − 3,000) / (0.25 p).
  //   WARNING below 6,000, CRITICAL below 4,800, LIQUIDATION below 3,000 / 0.7 = 4,285.71.
  // 12 March: low 4,860.35, close 4,970.79 → WARNING. 13 March: open 5,017.83, low 4,106.98,
  // close 5,563.71 → the low is past LIQUIDATION, the close back at WARNING (1.84).
  const scenario = {
    accounts: [
      {
        account: { id: 'BTC-3000', model: 'gross', cash: '-3000' },
        positions: [{ instrument: 'BTC-PERP', quantity: '1', avgCost: '7900' }],
      },
    ],
  };
  const path = (file: string) =>
    parsePricesCsv(readFileSync(join(root, 'test', 'fixtures', file), 'utf8'), file).filter(
      (b) => b.date >= '2020-03-10' && b.date <= '2020-03-16',
    );

  it('catches on the 13th the liquidation level a closes-only replay misses, and acts on it intrabar', async () => {
    const closes = await runLocal({
      scenario,
      bars: path('crash-2020.csv'),
      outDir: mkdtempSync(join(tmpdir(), 'mg-ohlc-')),
      dynamoDb: sharedLocalDynamoDb('e2e'),
    });
    expect(closes.eventCounts.LiquidationRequested).toBeUndefined();
    expect(closes.series['BTC-3000']!.map((p) => p.level)).not.toContain('LIQUIDATION');

    const ohlc = await runLocal({
      scenario,
      bars: path('crash-2020-ohlc.csv'),
      outDir: mkdtempSync(join(tmpdir(), 'mg-ohlc-')),
      dynamoDb: sharedLocalDynamoDb('e2e'),
    });
    const liquidation = ohlc.timeline.find((e) => e.kind === 'liquidation')!;
    expect(liquidation.date).toBe('2020-03-13');
    // Acted on at the intrabar low tick (4,106.98), not at the close (5,563.71).
    expect(liquidation.text).toMatch(/SELL 1 BTC-PERP @ ~4(0|1)\d\d\./);
    expect(ohlc.eventCounts.LiquidationRequested).toBe(1);
  }, 120_000);
});
