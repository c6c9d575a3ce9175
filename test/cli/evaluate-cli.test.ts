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
