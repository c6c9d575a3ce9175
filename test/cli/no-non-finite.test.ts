/**
 * No "NaN" or "Infinity" in the CLI's output (evaluate and replay, JSON and table) for the examples and
 * for books that divide by zero somewhere, nor in either engine's evaluation of the differential books.
 */
import fc from 'fast-check';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main.ts';
import { InputError } from '../../shared/errors.ts';
import { buildBook, evaluateBook, parseEvaluationInput } from '../../shared/margin/evaluate.ts';
import { evaluationToJson } from '../../shared/margin/serialize.ts';
import { bookArb, type SeparableModelName } from '../helpers/fast-summary-books.ts';
import { nonFiniteDecimals } from '../helpers/non-finite.ts';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'mg-nonfinite-'));
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
};

/** Books whose figures divide by zero somewhere: flat, flat in debit, levered at exactly zero equity… */
const EDGE_BOOKS = {
  'flat-zero': { account: { id: 'F0', model: 'reg-t', cash: '0' }, positions: [] },
  'flat-cash': { account: { id: 'F1', model: 'cash', cash: '1000' }, positions: [] },
  'flat-debit': { account: { id: 'F2', model: 'gross', cash: '-250' }, positions: [] },
  'zero-quantity': {
    account: { id: 'F3', model: 'tiered', cash: '0' },
    positions: [{ instrument: 'BTC', quantity: '0', avgCost: '9500', price: '9000' }],
  },
  'zero-equity': {
    account: { id: 'Z0', model: 'reg-t', cash: '-1000' },
    positions: [{ instrument: 'XYZ', quantity: '100', price: '10' }],
  },
  bankrupt: {
    account: { id: 'B0', model: 'tiered', cash: '100' },
    positions: [{ instrument: 'BTC', quantity: '1', avgCost: '12000', price: '9000', leverage: '5' }],
  },
  'portfolio-flat': { account: { id: 'P0', model: 'portfolio', cash: '0' }, positions: [] },
};

describe('CLI output: never NaN or Infinity', () => {
  const inputs = [
    ...readdirSync(join(root, 'examples'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => join(root, 'examples', f)),
    ...Object.entries(EDGE_BOOKS).map(([name, book]) => file(`${name}.json`, book)),
  ];

  it.each(inputs)('evaluate %s', (path) => {
    const json = runCli(['evaluate', path]);
    expect(json.code, json.stderr).toBe(0);
    expect(nonFiniteDecimals(JSON.parse(json.stdout))).toEqual([]);
    const table = runCli(['evaluate', path, '--format', 'table']);
    expect(table.code).toBe(0);
    expect(table.stdout).not.toMatch(/NaN|Infinity/);
  });

  it('a flat zero-equity account: leverage 0, distances none', () => {
    const out = JSON.parse(runCli(['evaluate', file('flat.json', EDGE_BOOKS['flat-zero'])]).stdout);
    expect(out).toMatchObject({
      leverage: '0',
      marginRatio: null,
      distanceToCall: { call: { move: null }, zeroEquity: { move: null } },
    });
    const table = runCli([
      'evaluate',
      file('flat.json', EDGE_BOOKS['flat-zero']),
      '--format',
      'table',
    ]).stdout;
    expect(table).toMatch(/leverage\s+0x/);
    expect(table).toMatch(/move to margin call\s+none reaches it/);
  });

  it.each(['zero-equity', 'bankrupt', 'flat-zero', 'flat-debit'] as const)('replay %s', (name) => {
    const csv = join(dir, `${name}.csv`);
    writeFileSync(
      csv,
      'date,instrument,close\n2026-01-02,XYZ,10\n2026-01-02,BTC,9000\n2026-01-05,XYZ,8\n2026-01-05,BTC,7000\n',
    );
    for (const format of ['json', 'table']) {
      const r = runCli([
        'replay',
        '--portfolio',
        file(`${name}.json`, EDGE_BOOKS[name]),
        '--prices',
        csv,
        '--format',
        format,
      ]);
      expect(r.code, r.stderr).toBe(0);
      if (format === 'json') expect(nonFiniteDecimals(JSON.parse(r.stdout))).toEqual([]);
      else expect(r.stdout).not.toMatch(/NaN|Infinity/);
    }
  });
});

describe('the differential books: never NaN or Infinity, in either engine', () => {
  it.each<SeparableModelName>(['reg-t', 'gross', 'cash', 'tiered'])('%s', (model) => {
    fc.assert(
      fc.property(bookArb(model), ({ raw }) => {
        let built: ReturnType<typeof buildBook>;
        try {
          built = buildBook(parseEvaluationInput(raw));
        } catch (e) {
          if (e instanceof InputError) return; // a book the model refuses (as the differential skips it)
          throw e;
        }
        const { model: m, book } = built;
        for (const options of [{}, { positionPrices: false }])
          expect(nonFiniteDecimals(evaluationToJson(evaluateBook(m, book, options)))).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });
});
