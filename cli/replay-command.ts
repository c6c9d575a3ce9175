import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Decimal } from '../shared/decimal.ts';
import { InputError, parseOrThrow, type FieldIssue } from '../shared/errors.ts';
import { parseEvaluationInput } from '../shared/margin/evaluate.ts';
import type { ModelName } from '../shared/schemas/account.ts';
import { escalationPolicySchema } from '../shared/replay/policy.ts';
import { parsePricesCsv } from '../shared/replay/prices-csv.ts';
import { replay } from '../shared/replay/replay.ts';
import { replayToJson, type ReplayJson } from '../shared/replay/serialize.ts';
import { readJsonFile } from './io.ts';
import { renderPairs, renderTable } from './table.ts';

export interface ReplayArgs {
  portfolio: string;
  prices: string;
  model?: string;
  instrument?: string;
  policy?: string;
  strategy?: string;
  priority?: string;
  targetRatio?: string;
  format: 'json' | 'table';
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw InputError.single(path, `cannot read file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** `SPY_2020-02_2020-04_daily.csv` → `SPY`: the instrument of a one-instrument OHLC file. */
function instrumentFromFileName(path: string): string {
  return basename(path).split(/[_.]/)[0]!;
}

/** Runs one parse, keeping its issues for the report of every problem at once. */
function gather<T>(issues: FieldIssue[], parse: () => T): T | undefined {
  try {
    return parse();
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    issues.push(...e.issues);
    return undefined;
  }
}

export function runReplay(args: ReplayArgs): string {
  const raw = readJsonFile(args.portfolio);
  // Every problem in one run: the book, the policy and the price file are all checked before reporting.
  const issues: FieldIssue[] = [];
  const input = gather(issues, () => parseEvaluationInput(raw, { model: args.model, extraKeys: ['policy'] }));
  // Command-line options override the policy written in the portfolio file.
  const filePolicy =
    typeof raw === 'object' && raw !== null ? (raw as { policy?: unknown }).policy : undefined;
  if (
    filePolicy !== undefined &&
    (typeof filePolicy !== 'object' || filePolicy === null || Array.isArray(filePolicy))
  )
    issues.push({ field: 'policy', message: 'expected an object (the escalation policy)' });
  const policy = gather(issues, () =>
    parseOrThrow(
      escalationPolicySchema,
      {
        ...(typeof filePolicy === 'object' && filePolicy !== null && !Array.isArray(filePolicy)
          ? filePolicy
          : {}),
        ...(args.policy ? { mode: args.policy } : {}),
        ...(args.strategy ? { strategy: args.strategy } : {}),
        ...(args.priority ? { liquidationPriority: args.priority } : {}),
        ...(args.targetRatio ? { targetRatio: args.targetRatio } : {}),
      },
      ['policy'],
    ),
  );
  const bars = gather(issues, () =>
    parsePricesCsv(
      readText(args.prices),
      args.prices,
      args.instrument ?? instrumentFromFileName(args.prices),
    ),
  );
  if (issues.length > 0 || !input || !policy || !bars) throw new InputError(issues);
  const result = replayToJson(replay(input, bars, policy, args.model as ModelName | undefined));
  return args.format === 'table' ? formatReplayTable(result) : JSON.stringify(result, null, 2);
}

function fixed(value: string | null, places: number): string | null {
  return value === null ? null : new Decimal(value).toDecimalPlaces(places).toFixed(places);
}

export function formatReplayTable(r: ReplayJson): string {
  const rows = r.timeline.map((t) => [
    t.date,
    Object.values(t.prices)
      .map((p) => fixed(p, 2))
      .join(' '),
    fixed(t.equity, 2),
    fixed(t.marginRatio, 4),
    // Every level the bar passed through: e.g. CRITICAL → SAFE when a deleverage restored the ratio.
    t.events.flatMap((e) => (e.type === 'RiskLevelChanged' ? [e.to] : [])).join(' → ') || t.level,
    [
      // Intrabar (OHLC) crossings: where on the way to the bar's low (or high) the level or call changed.
      ...(t.crossings ?? []).map(
        (c) =>
          `intrabar ${c.level}${c.inMarginCall ? ' + call' : ''} at ${Object.values(c.prices)
            .map((p) => fixed(p, 2))
            .join(' ')}`,
      ),
      ...t.events.flatMap((e) =>
        e.type === 'MarginCallTriggered'
          ? ['MARGIN CALL']
          : e.type === 'MarginCallResolved'
            ? ['call resolved']
            : [],
      ),
      ...t.actions.map((a) =>
        a.plan
          ? `${a.kind}: ${a.plan.orders.map((o) => `${o.side} ${o.quantity} ${o.instrument} @ ${fixed(o.referencePrice, 2)}`).join(', ') || 'no orders'}`
          : a.kind,
      ),
    ].join('; '),
  ]);
  const timeline = renderTable(['date', 'prices', 'equity', 'ratio', 'level', 'events and actions'], rows);
  const calls = r.marginCalls.length
    ? renderTable(
        ['margin call', 'triggered', 'at prices', 'resolved', 'worst ratio'],
        r.marginCalls.map((m) => [
          m.incidentId,
          m.triggeredOn,
          Object.entries(m.pricesAtTrigger)
            .map(([k, v]) => `${k} ${v}`)
            .join(' '),
          m.resolvedOn ?? 'open',
          fixed(m.worstRatio, 4),
        ]),
      )
    : 'no margin call';
  const callPrices = r.start.positions
    .map((p) => `${p.instrument} ${fixed(p.callPrice ?? null, 2) ?? '—'}`)
    .join(', ');
  const zeroPrices = r.start.positions
    .map((p) => `${p.instrument} ${fixed(p.zeroEquityPrice ?? null, 2) ?? '—'}`)
    .join(', ');
  const summary = renderPairs([
    ['account', `${r.accountId} (${r.model}, policy ${r.policy})`],
    [
      'start equity / ratio',
      `${fixed(r.start.equity, 2)} / ${fixed(r.start.marginRatio, 4) ?? 'no requirement'}`,
    ],
    ['call price at start', callPrices],
    ['zero-equity price at start', zeroPrices],
    [
      'margin calls',
      `${r.stats.triggered} triggered, ${r.stats.resolved} resolved, worst ratio ${fixed(r.stats.worstRatio, 4) ?? '—'}, average in call ${fixed(r.stats.averageRatioInCall, 4) ?? '—'}`,
    ],
    ['equity reached zero', r.zeroEquityOn ?? 'never'],
    [
      'actions',
      `${r.actions.alert} alert(s), ${r.actions.deleverage} deleverage(s), ${r.actions.liquidation} liquidation(s)`,
    ],
    [
      'end equity / ratio / level',
      `${fixed(r.end.equity, 2)} / ${fixed(r.end.marginRatio, 4) ?? 'no requirement'} / ${r.end.level}`,
    ],
    ['P&L', fixed(r.end.pnl, 2)],
    [
      'max drawdown',
      `${fixed(new Decimal(r.maxDrawdown.fraction).times(100).toFixed(), 2)}% (${fixed(r.maxDrawdown.amount, 2)})`,
    ],
  ]);
  return `${summary}\n\n${timeline}\n\n${calls}`;
}
