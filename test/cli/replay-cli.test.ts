import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main.ts';

const fixtures = join(import.meta.dirname, '..', 'fixtures');
const dir = mkdtempSync(join(tmpdir(), 'mg-replay-'));
const portfolio = join(dir, 'five-x.json');
writeFileSync(
  portfolio,
  JSON.stringify({
    account: {
      id: 'L5',
      model: 'gross',
      cash: '-22500',
      params: { initialRate: '0.2', maintenanceRate: '0.15', maintenanceBasis: 'entry' },
    },
    positions: [{ instrument: 'XYZ', quantity: '325', avgCost: '100', price: '100' }],
    policy: { execution: { feeRate: '0', slippageRate: '0' } },
  }),
);

describe('margin-guard replay', () => {
  it('prints a JSON timeline and margin-call report', () => {
    const r = runCli([
      'replay',
      '--portfolio',
      portfolio,
      '--prices',
      join(fixtures, 'five-x-path.csv'),
      '--policy',
      'monitor',
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.marginCalls[0].triggeredOn).toBe('2026-01-09');
    expect(out.zeroEquityOn).toBe('2026-01-15');
    expect(out.timeline).toHaveLength(11);
    expect(out.timeline[5].events.map((e: { type: string }) => e.type)).toEqual(['MarginCallTriggered']);
  });

  it('prints a table with the deleverage orders', () => {
    const r = runCli([
      'replay',
      '--portfolio',
      portfolio,
      '--prices',
      join(fixtures, 'five-x-path.csv'),
      '--format',
      'table',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2026-01-06 .* CRITICAL → SAFE .*deleverage: SELL 106 XYZ/);
    expect(r.stdout).toMatch(/call price at start\s+XYZ 84\.23/);
    expect(r.stdout).toMatch(/zero-equity price at start\s+XYZ 69\.23/);
  });

  it('reads a one-instrument OHLC file, naming the instrument from the file', () => {
    const spyBook = join(dir, 'spy.json');
    writeFileSync(
      spyBook,
      JSON.stringify({
        account: { id: 'S', model: 'reg-t', cash: '-18750' },
        positions: [{ instrument: 'SPY', quantity: '100', price: '300' }],
      }),
    );
    const r = runCli([
      'replay',
      '--portfolio',
      spyBook,
      '--prices',
      join(fixtures, 'SPY_2020-02_2020-04_daily.csv'),
      '--policy',
      'monitor',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).marginCalls[0].triggeredOn).toBe('2020-03-09');
  });

  it('exits 2 on bad options and bad files, naming them', () => {
    expect(runCli(['replay', '--portfolio', portfolio]).code).toBe(2);
    const bad = runCli([
      'replay',
      '--portfolio',
      portfolio,
      '--prices',
      join(fixtures, 'five-x-path.csv'),
      '--strategy',
      'yolo',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      'policy.strategy: expected one of proportional, risk-based, liquidity-aware, time-based',
    );
    const csv = join(dir, 'bad.csv');
    writeFileSync(csv, 'date,instrument,close\n2026-01-02,XYZ,-1\n');
    expect(runCli(['replay', '--portfolio', portfolio, '--prices', csv]).stderr).toContain(
      'bad.csv line 2, column close: expected a positive decimal, got "-1"',
    );
  });
});
