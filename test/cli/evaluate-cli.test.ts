import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'mg-cli-'));
function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const fiveX = file('five-x.json', {
  account: {
    id: 'L5',
    model: 'gross',
    cash: '-22500',
    params: { initialRate: '0.2', maintenanceRate: '0.15', maintenanceBasis: 'entry' },
  },
  positions: [{ instrument: 'X', quantity: '325', avgCost: '100', price: '100' }],
});

describe('margin-guard evaluate', () => {
  it('prints the evaluation as JSON with decimal strings', () => {
    const result = runCli(['evaluate', fiveX]);
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out).toMatchObject({
      accountId: 'L5',
      equity: '10000',
      maintenanceRequirement: '4875',
      marginRatio: '2.051282051282',
      distanceToCall: {
        call: { move: '-0.157692307692', rise: null },
        zeroEquity: { fall: '0.307692307692' },
      },
    });
    expect(out.positions[0].zeroEquityPrice).toBe('69.230769230769');
  });

  it('prints a table', () => {
    const result = runCli(['evaluate', fiveX, '--format', 'table']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/equity\s+10,000/);
    expect(result.stdout).toMatch(/move to margin call\s+-15\.77%/);
    expect(result.stdout).toMatch(/move to zero equity\s+-30\.77%/);
  });

  it('--model re-evaluates the same book under another model', () => {
    const out = JSON.parse(runCli(['evaluate', fiveX, '--model', 'reg-t']).stdout);
    expect(out.model).toBe('reg-t');
    expect(out.maintenanceRequirement).toBe('8125'); // 25% of 32,500
  });

  it('exits 2 naming the field on invalid input', () => {
    const bad = file('bad.json', {
      account: { id: 'A', model: 'reg-t', cash: '1' },
      positions: [{ instrument: 'S', quantity: '1', price: '-5' }],
    });
    const result = runCli(['evaluate', bad]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('positions[0].price: must be greater than 0');
  });

  it('exits 2 on malformed JSON, a missing file, a bad option', () => {
    expect(runCli(['evaluate', file('broken.json', '{"account":')]).stderr).toMatch(
      /broken\.json: invalid JSON/,
    );
    expect(runCli(['evaluate', join(dir, 'nope.json')])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/nope\.json: cannot read file \(ENOENT\)/),
    });
    expect(runCli(['evaluate', fiveX, '--format', 'xml'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--format: expected json or table/),
    });
    expect(runCli(['evaluate', fiveX, '--bogus']).code).toBe(2);
    expect(runCli(['frobnicate']).code).toBe(2);
  });

  it('runs as `npx margin-guard` with the documented exit codes', () => {
    const ok = execFileSync('npx', ['--no-install', 'margin-guard', 'evaluate', fiveX], { encoding: 'utf8' });
    expect(JSON.parse(ok).equity).toBe('10000');
    const bad = spawnSync(
      'npx',
      [
        '--no-install',
        'margin-guard',
        'evaluate',
        file('m.json', { account: { id: 'A', model: 'x', cash: '1' }, positions: [] }),
      ],
      { encoding: 'utf8' },
    );
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('account.model: unknown margin model "x"');
  });
});

describe('margin-guard evaluate: crypto venue conventions (tiered)', () => {
  const root = join(import.meta.dirname, '..', '..');

  it("a cross account on each symbol's own tier table (examples/binance-cross-two-symbols.json)", () => {
    // Binance's two-symbol FAQ example (test/unit/margin/tiered-venues.test.ts works it by hand).
    const result = runCli(['evaluate', join(root, 'examples', 'binance-cross-two-symbols.json')]);
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out.positions[0].liquidationPrice).toBe('26316.893264518861');
    expect(out.positions[1].liquidationPrice).toBe('1153.256464239104');
    expect(out.maintenanceRequirement).toBe('427713.319566'); // 71,200.811444 + 356,512.508122
  });

  it('entry basis and a closing fee; bad combinations exit 2 naming the field', () => {
    const bybit = (params: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      file('bybit.json', {
        account: { id: 'BY', model: 'tiered', cash: '0', params: { mode: 'isolated', ...params } },
        positions: [
          {
            instrument: 'BTCUSDT',
            quantity: '1',
            avgCost: '50000',
            price: '50000',
            leverage: '10',
            ...extra,
          },
        ],
      });
    const tiers = [{ upTo: null, maintenanceRate: '0.005', maxLeverage: '100' }];
    // 5,024.75 posted, fee 0.055%: bankruptcy 44,975.25 / 0.99945 = 45,000 (Bybit's order-cost example).
    const out = JSON.parse(
      runCli([
        'evaluate',
        bybit({ tiers, maintenanceBasis: 'entry', closingFeeRate: '0.00055' }, { isolatedMargin: '5024.75' }),
      ]).stdout,
    );
    expect(out.positions[0].bankruptcyPrice).toBe('45000');
    expect(out.positions[0].liquidationPrice).toBe('45250.137575666617');
    const bad = runCli([
      'evaluate',
      bybit({ tiers, instrumentTiers: { ETHUSDT: tiers }, closingFeeRate: '1.5' }),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('account.params.closingFeeRate: must be a fraction at least 0 and below 1');
    const unheld = runCli(['evaluate', bybit({ tiers, instrumentTiers: { ETHUSDT: tiers } })]);
    expect(unheld.code).toBe(2);
    expect(unheld.stderr).toContain(
      'account.params.instrumentTiers.ETHUSDT: tier table for an instrument not held',
    );
  });
});
