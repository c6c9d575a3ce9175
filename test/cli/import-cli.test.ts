import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'mg-import-'));
function file(name: string, lines: readonly string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const accounts = file('accounts.jsonl', [
  JSON.stringify({ id: 'L5', model: 'gross', cash: '-22500', params: { maintenanceRate: '0.15' } }),
  '',
  JSON.stringify({
    id: 'PERP-1',
    model: 'tiered',
    cash: '1000',
    params: { tiers: [{ upTo: null, maintenanceRate: '0.004', maxLeverage: '125' }] },
  }),
]);
const positions = file('positions.csv', [
  'accountId,instrument,quantity,avgCost,assetClass,leverage,fractional',
  'L5,X,325,100,equity,,',
  'PERP-1,BTC-PERP,0.5,20000,crypto,10,',
  'PERP-1,"ETH-PERP",2,1500,crypto,5,true',
]);
const prices = file('prices.csv', [
  'instrument,price,priceTime',
  'X,100,2026-03-02T15:00:00Z',
  'BTC-PERP,20000,2026-03-02T15:00:00Z',
]);

const items = (path: string) =>
  gunzipSync(readFileSync(path))
    .toString()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => unmarshall(JSON.parse(l).Item));

describe('margin-guard import', () => {
  it('validates the files and writes one DynamoDB import file per table, values exactly as given', () => {
    const out = join(dir, 'out');
    const result = runCli([
      'import',
      '--accounts',
      accounts,
      '--positions',
      positions,
      '--prices',
      prices,
      '--out',
      out,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ valid: true, accounts: 2, positions: 3, prices: 2 });
    expect(items(join(out, 'Accounts.json.gz'))).toEqual([
      { accountId: 'L5', model: 'gross', cash: '-22500', params: { maintenanceRate: '0.15' } },
      {
        accountId: 'PERP-1',
        model: 'tiered',
        cash: '1000',
        params: { tiers: [{ upTo: null, maintenanceRate: '0.004', maxLeverage: '125' }] },
      },
    ]);
    // CSV cells stay decimal strings (never numbers); an empty cell is an absent field; true is a boolean.
    expect(items(join(out, 'Positions.json.gz'))).toEqual([
      { accountId: 'L5', instrument: 'X', quantity: '325', avgCost: '100', assetClass: 'equity' },
      {
        accountId: 'PERP-1',
        instrument: 'BTC-PERP',
        quantity: '0.5',
        avgCost: '20000',
        assetClass: 'crypto',
        leverage: '10',
      },
      {
        accountId: 'PERP-1',
        instrument: 'ETH-PERP',
        quantity: '2',
        avgCost: '1500',
        assetClass: 'crypto',
        leverage: '5',
        fractional: true,
      },
    ]);
    expect(items(join(out, 'Prices.json.gz'))).toEqual([
      { instrument: 'X', price: '100', priceTime: '2026-03-02T15:00:00Z' },
      { instrument: 'BTC-PERP', price: '20000', priceTime: '2026-03-02T15:00:00Z' },
    ]);
  });

  it('names every bad row by file, line and field in one run, and writes nothing', () => {
    const badAccounts = file('bad-accounts.jsonl', [
      JSON.stringify({ id: 'A1', model: 'gross', cash: '100', params: { maintenanceRat: '0.3' } }),
      '{"id": "A2", "model": "gross", "cash": "1e3"',
      JSON.stringify({ id: 'A3', model: 'reg-t', cash: '-100' }),
      JSON.stringify({ id: 'A3', model: 'gross', cash: '0' }),
      '[1, 2]',
      JSON.stringify({ id: 'A4', model: 'tiered', cash: '10', params: { tiers: [] } }),
    ]);
    const badPositions = file('bad-positions.csv', [
      'accountId,instrument,quantity,fractional,price',
      'A1,X,ten,,',
      'A3,Y,1.5,false,',
      'NOPE,Z,1,,',
      'A3,Y,2,,',
      'A1,W,1,,12',
      'A1,V',
    ]);
    const out = join(dir, 'never');
    const result = runCli(['import', '--accounts', badAccounts, '--positions', badPositions, '--out', out]);
    expect(result.code).toBe(2);
    const lines = result.stderr.split('\n').filter((l) => l.startsWith('  '));
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^ {2}bad-accounts\.jsonl line 1: params\.maintenanceRat: unknown key.*did you mean "maintenanceRate"/,
        ),
        expect.stringMatching(/^ {2}bad-accounts\.jsonl line 2: invalid JSON/),
        expect.stringMatching(
          /^ {2}bad-accounts\.jsonl line 4: id: duplicate account A3 \(first at bad-accounts\.jsonl line 3\)/,
        ),
        '  bad-accounts.jsonl line 5: expected a JSON object',
        expect.stringMatching(/^ {2}bad-accounts\.jsonl line 6: params\.tiers/),
        expect.stringMatching(/^ {2}bad-positions\.csv line 2: quantity: /),
        '  bad-positions.csv line 3: quantity: Y trades in whole units only; got 1.5',
        '  bad-positions.csv line 4: accountId: no account NOPE in the accounts file',
        '  bad-positions.csv line 5: instrument: duplicate instrument Y (already at bad-positions.csv line 3)',
        '  bad-positions.csv line 6: price: prices come from the price feed (the prices file or POST /prices), not the position',
        "  bad-positions.csv line 7: expected 5 cells (the header's), got 2",
      ]),
    );
    expect(lines).toHaveLength(11);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a file it cannot read or whose kind it does not know, naming it', () => {
    const missing = runCli(['import', '--accounts', join(dir, 'none.jsonl'), '--positions', positions]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('none.jsonl: cannot read file (ENOENT)');
    const kind = runCli(['import', '--accounts', file('accounts.xlsx', ['x']), '--positions', positions]);
    expect(kind.stderr).toContain('accounts.xlsx: expected a .jsonl, .ndjson or .csv file, got ".xlsx"');
    const stray = runCli(['import', 'extra', '--accounts', accounts, '--positions', positions]);
    expect(stray).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('import: unexpected argument "extra"'),
    });
    expect(runCli(['import', '--accounts', accounts]).stderr).toContain(
      '--accounts and --positions are required',
    );
  });
});
