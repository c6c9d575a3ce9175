/**
 * Bulk import (`margin-guard import`): a broker's existing accounts, positions and prices, from JSON Lines
 * or CSV files, checked row by row before anything is written. Every bad row is reported with its file,
 * line and field, all in one pass; a file set with any bad row writes nothing.
 *
 * Rows become table items in the edge shape the pipeline reads (shared/pipeline/records.ts): decimal
 * strings exactly as given, the account id as `accountId`. Each account is validated together with its
 * positions by the engine's own parser (parseEvaluationInput: the account, every position, the model's
 * params and the model's rules), so an import accepts exactly what an evaluation accepts. Positions carry
 * no price — prices come from the price feed (the prices file here, `POST /prices` or the Prices table
 * later) — so they are checked against a placeholder price, and a `price` in a position row is refused.
 */
import { parseEvaluationInput } from '../margin/evaluate.ts';
import { InputError, safeParseFields, type FieldIssue } from '../errors.ts';
import {
  validPriceItemSchema,
  type AccountItem,
  type PositionItem,
  type PriceItem,
} from '../pipeline/records.ts';

/** A row of an import file, parsed to an object but not yet validated. */
export interface SourceRow {
  /** Where it came from, for messages: `accounts.jsonl line 12`. */
  where: string;
  value: Record<string, unknown>;
}

export interface ImportFiles {
  accounts: readonly SourceRow[];
  positions: readonly SourceRow[];
  prices?: readonly SourceRow[];
}

export interface ImportItems {
  accounts: AccountItem[];
  positions: PositionItem[];
  prices: PriceItem[];
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The engine needs a price to parse a position; imported positions are checked against this one. */
const PLACEHOLDER_PRICE = '1';

/**
 * JSON Lines: one object per non-blank line. A line that is not a JSON object is a bad row (named by its
 * line); the rest are still read, so one run reports every problem.
 */
export function readJsonLines(text: string, source: string, issues: FieldIssue[]): SourceRow[] {
  const rows: SourceRow[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${source} line ${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      issues.push({ field: where, message: `invalid JSON: ${(e as Error).message}` });
      return;
    }
    if (isRecord(value)) rows.push({ where, value });
    else issues.push({ field: where, message: 'expected a JSON object' });
  });
  return rows;
}

/**
 * CSV with a header row: each cell becomes a string field named by its column (the engine's edge
 * shape is decimal strings); an empty cell is an absent field. `true`/`false` cells become booleans and
 * whole-number cells in `integerColumns` become numbers, for the few fields that are not decimals.
 * Quoted cells (RFC 4180: "a, b" and "" for a quote) are read; a row with the wrong number of cells is bad.
 */
export function readCsv(
  text: string,
  source: string,
  issues: FieldIssue[],
  integerColumns: readonly string[] = ['dayTrades5d'],
): SourceRow[] {
  const lines = text.split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim());
  if (header.length === 0 || header.every((h) => h === '')) {
    issues.push({ field: `${source} line 1`, message: 'expected a header row naming the columns' });
    return [];
  }
  const rows: SourceRow[] = [];
  lines.slice(1).forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${source} line ${i + 2}`;
    const cells = splitCsvLine(line);
    if (cells.length !== header.length) {
      issues.push({
        field: where,
        message: `expected ${header.length} cells (the header's), got ${cells.length}`,
      });
      return;
    }
    const value: Record<string, unknown> = {};
    header.forEach((column, c) => {
      const cell = cells[c]!.trim();
      if (cell === '') return;
      if (cell === 'true' || cell === 'false') value[column] = cell === 'true';
      else if (integerColumns.includes(column) && /^\d+$/.test(cell))
        value[column] = Number.parseInt(cell, 10);
      else value[column] = cell;
    });
    rows.push({ where, value });
  });
  return rows;
}

function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else cell += ch;
  }
  cells.push(cell);
  return cells;
}

/** Maps an engine issue (`positions[3].quantity`) back to the row it came from (`positions.csv line 9`). */
function relocate(issue: FieldIssue, accountRow: SourceRow, positionRows: readonly SourceRow[]): FieldIssue {
  const rowOf = (index: string) => positionRows[Number.parseInt(index, 10)]!.where;
  // A message may point at another position too ("already at positions[0]"): name its row instead.
  const message = issue.message.replace(/positions\[(\d+)\]/g, (_, index: string) => rowOf(index));
  const position = /^positions\[(\d+)\](?:\.(.*))?$/.exec(issue.field);
  if (position) return { field: `${rowOf(position[1]!)}: ${position[2] ?? '(row)'}`, message };
  return { field: `${accountRow.where}: ${issue.field.replace(/^account\.?/, '') || '(row)'}`, message };
}

/** Issues in file order: by source, then line (`accounts.jsonl line 9` before `line 10`). */
function inFileOrder(issues: FieldIssue[]): FieldIssue[] {
  const key = (field: string) => /^(.*?) line (\d+)/.exec(field);
  return issues.sort((a, b) => {
    const [ka, kb] = [key(a.field), key(b.field)];
    if (!ka || !kb) return ka ? 1 : kb ? -1 : 0;
    return ka[1]!.localeCompare(kb[1]!) || Number(ka[2]) - Number(kb[2]);
  });
}

/**
 * Validates a whole import and returns its table items, or throws one InputError naming every bad row
 * (file, line and field). Besides each account's own validation: account ids are unique, every position
 * belongs to an account in the import, an account holds an instrument once, and prices are unique per
 * instrument and valid price items.
 */
export function validateImport(files: ImportFiles, known: FieldIssue[] = []): ImportItems {
  const issues: FieldIssue[] = [...known];
  const accounts = new Map<string, SourceRow>();
  for (const row of files.accounts) {
    const id = row.value.id;
    if (typeof id !== 'string') continue; // named by the account's own validation below
    const first = accounts.get(id);
    if (first)
      issues.push({
        field: `${row.where}: id`,
        message: `duplicate account ${id} (first at ${first.where})`,
      });
    else accounts.set(id, row);
  }
  const positionsOf = new Map<string, SourceRow[]>();
  for (const row of files.positions) {
    const { accountId } = row.value;
    if (typeof accountId !== 'string' || accountId === '') {
      issues.push({
        field: `${row.where}: accountId`,
        message: 'required: the account this position belongs to',
      });
    } else if (!accounts.has(accountId)) {
      issues.push({
        field: `${row.where}: accountId`,
        message: `no account ${accountId} in the accounts file`,
      });
    } else {
      for (const key of ['price', 'priceTime'] as const)
        if (key in row.value)
          issues.push({
            field: `${row.where}: ${key}`,
            message: 'prices come from the price feed (the prices file or POST /prices), not the position',
          });
      (positionsOf.get(accountId) ?? positionsOf.set(accountId, []).get(accountId)!).push(row);
    }
  }

  const out: ImportItems = { accounts: [], positions: [], prices: [] };
  for (const row of files.accounts) {
    const id = row.value.id;
    if (typeof id === 'string' && accounts.get(id) !== row) continue; // a duplicate, already named
    const positionRows = typeof id === 'string' ? (positionsOf.get(id) ?? []) : [];
    try {
      parseEvaluationInput({
        account: row.value,
        positions: positionRows.map(({ value }) => {
          const { accountId: _a, price: _p, priceTime: _t, ...position } = value;
          return { ...position, price: PLACEHOLDER_PRICE };
        }),
      });
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      issues.push(...e.issues.map((issue) => relocate(issue, row, positionRows)));
      continue;
    }
    const { id: accountId, ...rest } = row.value;
    out.accounts.push({ ...rest, accountId } as AccountItem);
    for (const { value } of positionRows) out.positions.push({ ...value } as PositionItem);
  }

  const seen = new Map<string, string>();
  for (const row of files.prices ?? []) {
    const parsed = safeParseFields(validPriceItemSchema, row.value);
    if (!parsed.success) {
      issues.push(
        ...parsed.error.issues.map((i) => ({ field: `${row.where}: ${i.field}`, message: i.message })),
      );
      continue;
    }
    const first = seen.get(parsed.data.instrument);
    if (first) {
      issues.push({
        field: `${row.where}: instrument`,
        message: `duplicate price for ${parsed.data.instrument} (first at ${first})`,
      });
      continue;
    }
    seen.set(parsed.data.instrument, row.where);
    out.prices.push(row.value as PriceItem);
  }
  if (issues.length > 0) throw new InputError(inFileOrder(issues));
  return out;
}
