import { Decimal, ZERO, sum } from '../decimal.ts';
import { todayUtc } from '../calendar.ts';
import { unknownKeyMessage } from '../did-you-mean.ts';
import { formatPath, InputError, parseOrThrow, safeParseFields, type FieldIssue } from '../errors.ts';
import { accountSchema, modelName, type Account, type ModelName } from '../schemas/account.ts';
import { positionsSchema, type Position } from '../schemas/position.ts';
import { flatBookDistance, rootsToMove, sharedSamples, solveScale } from './distance.ts';
import { leverageOf, type Evaluation, type PositionEvaluation } from './evaluation.ts';
import type { Book, CommonParams, MarginModel } from './model.ts';
import { MODELS } from './registry.ts';
import { fastPathStats } from './fast/stats.ts';
import { fastSummary } from './fast/summary.ts';
import { openOrderReservation } from './open-orders.ts';
import { thresholdPrices } from './single-position.ts';
import { optionBookIssues } from './options/contract.ts';

export { fastPathStats };

export interface EvaluateOptions extends BookOptions {
  /** Overrides the account's model (what-if). */
  model?: ModelName;
  /** Evaluation date (YYYY-MM-DD) when the account does not carry one. */
  asOf?: string;
}

export interface ValidatedInput {
  account: Account;
  positions: Position[];
}

export interface ParseOptions {
  /** The model the input will be evaluated under when it is not the account's own (a what-if). */
  model?: string;
  /** Top-level keys besides account and positions that the caller reads itself (a replay's policy). */
  extraKeys?: readonly string[];
}

const INPUT_KEYS = ['account', 'positions'];

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Validates raw input (decimal strings) into domain values, in one pass: the top level, the account,
 * the positions, the model's own params and the model's rules are all checked, and every problem found
 * is named by its field (unknown keys too, with a "did you mean"), not only those of the first stage.
 * A model rule that needs a field that did not parse waits for it (it cannot be judged yet).
 */
export function parseEvaluationInput(raw: unknown, options: ParseOptions = {}): ValidatedInput {
  if (!isRecord(raw)) throw InputError.single('(root)', 'expected an object with account and positions');
  const issues: FieldIssue[] = [];
  const collect = <T>(result: { success: true; data: T } | { success: false; error: InputError }) => {
    if (result.success) return result.data;
    issues.push(...result.error.issues);
    return undefined;
  };
  const rootKeys = [...INPUT_KEYS, ...(options.extraKeys ?? [])];
  for (const key of Object.keys(raw))
    if (!rootKeys.includes(key))
      issues.push({ field: formatPath([key]), message: unknownKeyMessage(key, rootKeys) });
  const account =
    raw.account === undefined
      ? void issues.push({ field: 'account', message: 'required' })
      : collect(safeParseFields(accountSchema, raw.account, ['account']));
  const positions = collect(safeParseFields(positionsSchema, raw.positions ?? [], ['positions']));

  const rawAccount = isRecord(raw.account) ? raw.account : {};
  const rawParams = rawAccount.params === undefined ? {} : rawAccount.params;
  const own = modelName.safeParse(rawAccount.model);
  const override =
    options.model === undefined ? undefined : collect(safeParseFields(modelName, options.model, ['model']));
  const params = new Map<ModelName, CommonParams>();
  if (isRecord(rawParams) && own.success) {
    // The account's own model checks every key of its params, even in a what-if under another model.
    const ownModel = MODELS[own.data] as unknown as MarginModel<CommonParams>;
    const ownParams = collect(safeParseFields(ownModel.paramsSchema, rawParams, ['account', 'params']));
    if (ownParams) params.set(own.data, ownParams);
    if (override && override !== own.data && ownParams) {
      const model = MODELS[override] as unknown as MarginModel<CommonParams>;
      const what = collect(
        safeParseFields(model.paramsSchema, paramsFor(model, own.data, rawParams), ['account', 'params']),
      );
      if (what) params.set(override, what);
    }
  }
  const used = override ?? (own.success ? own.data : undefined);
  const usedParams = used === undefined ? undefined : params.get(used);
  if (used !== undefined && usedParams && positions) {
    const model = MODELS[used] as unknown as MarginModel<CommonParams>;
    issues.push(...model.validate({ positions, params: usedParams }));
    issues.push(...optionBookIssues(used, positions, account?.asOf));
  }
  if (issues.length > 0) throw new InputError(issues);
  // buildBook finds the params already parsed (see paramsOf).
  parsedParams.set(account!, params);
  return { account: account!, positions: positions! };
}

/** Builds the model's book: params parsed by the model itself, then the model's own rules checked. */
export function buildBook(
  input: ValidatedInput,
  options: EvaluateOptions = {},
): { model: MarginModel<CommonParams>; book: Book<CommonParams> } {
  const name =
    options.model === undefined ? input.account.model : parseOrThrow(modelName, options.model, ['model']);
  const model = MODELS[name] as unknown as MarginModel<CommonParams>;
  const params = paramsOf(model, input.account);
  const book: Book<CommonParams> = {
    account: input.account,
    positions: input.positions,
    params,
    asOf: input.account.asOf ?? options.asOf ?? todayUtc(),
  };
  // Again on every evaluation: some rules depend on prices (a tiered position's notional tier).
  const issues = [...model.validate(book), ...optionBookIssues(name, book.positions, book.asOf)];
  if (issues.length > 0) throw new InputError(issues);
  return { model, book };
}

const parsedParams = new WeakMap<Account, Map<ModelName, CommonParams>>();

/**
 * Validated input with some account fields changed (a what-if's cash after its fills), keeping the params
 * already parsed: the same params object means the same model rule, so every cache keyed by it (the fast
 * path's compiled positions) still hits. Not for changes to the model or its params.
 */
export function withAccountFields(
  input: ValidatedInput,
  fields: Partial<Omit<Account, 'model' | 'params'>>,
  positions: Position[] = input.positions,
): ValidatedInput {
  const account = { ...input.account, ...fields };
  const params = parsedParams.get(input.account);
  if (params) parsedParams.set(account, params);
  return { account, positions };
}

/**
 * The model's params for this account, validated with zod once per account object: a re-priced tick
 * reuses the account ParsedInputCache validated, and so its params.
 */
function paramsOf(model: MarginModel<CommonParams>, account: Account): CommonParams {
  let byModel = parsedParams.get(account);
  if (!byModel) parsedParams.set(account, (byModel = new Map()));
  let params = byModel.get(model.name);
  if (!params) {
    params = parseOrThrow(model.paramsSchema, paramsFor(model, account.model, account.params), [
      'account',
      'params',
    ]);
    byModel.set(model.name, params);
  }
  return params;
}

/**
 * A what-if under another model keeps the params that model accepts (callRatio, initialRate…) and drops
 * the ones it does not know or allow (e.g. a 20% initial rate under Reg T); for the account's own model
 * every key must be known and valid.
 */
function paramsFor(
  model: MarginModel<CommonParams>,
  own: ModelName,
  params: Record<string, unknown>,
): Record<string, unknown> {
  if (model.name === own) return params;
  const result = model.paramsSchema.safeParse(params);
  if (result.success) return params;
  const foreign = new Set(
    result.error.issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys' && issue.path.length === 0 ? issue.keys : [String(issue.path[0])],
    ),
  );
  return Object.fromEntries(Object.entries(params).filter(([key]) => !foreign.has(key)));
}

function exposureOf(p: Position): Decimal {
  return p.quantity.times(p.multiplier);
}

/** Equity independent of prices: cash, less entry value for contracts (their cash never moved). */
export function equityConstant(model: MarginModel<CommonParams>, book: Book<CommonParams>): Decimal {
  if (model.valuation === 'spot') return book.account.cash;
  return book.account.cash.minus(sum(book.positions.map((p) => exposureOf(p).times(p.avgCost ?? p.price))));
}

/** Equity at today's prices: cash plus market value (spot), or collateral plus unrealised PnL (derivative). */
export function bookEquity(model: MarginModel<CommonParams>, book: Book<CommonParams>): Decimal {
  return equityConstant(model, book).plus(sum(book.positions.map((p) => exposureOf(p).times(p.price))));
}

export interface BookOptions {
  /** Per-position call / zero-equity (and liquidation) prices; the costliest part, skippable in hot paths. */
  positionPrices?: boolean;
}

/**
 * The evaluation of a book. A summary (positionPrices: false) of a separable model runs on the
 * scaled-integer fast path (fast/summary.ts) and falls back to the reference engine for anything the
 * integers cannot hold exactly; both give the same decimals, string for string.
 */
export function evaluateBook(
  model: MarginModel<CommonParams>,
  book: Book<CommonParams>,
  options: BookOptions = {},
): Evaluation {
  // Open orders reserve initial margin: the reference engine prices them (the fast path has no orders).
  const orders = book.account.openOrders;
  if (options.positionPrices === false && model.separable && !(orders && orders.length > 0)) {
    const fast = fastSummary(model, book, model.separable(book), () =>
      evaluateBookReference(model, book, options),
    );
    if (fast) {
      fastPathStats.fast += 1;
      return fast;
    }
    fastPathStats.reference += 1;
  }
  return evaluateBookReference(model, book, options);
}

/**
 * The reference engine: every figure in decimal.js. Full evaluations and non-separable models use it;
 * the fast path's differential test holds the fast path to it.
 */
export function evaluateBookReference(
  model: MarginModel<CommonParams>,
  book: Book<CommonParams>,
  options: BookOptions = {},
): Evaluation {
  const { positions, params, account } = book;
  const values = positions.map((p) => exposureOf(p).times(p.price));
  const constant = equityConstant(model, book);
  const equity = constant.plus(sum(values));
  const longMarketValue = sum(values.filter((v) => v.isPositive()));
  const shortMarketValue = sum(values.filter((v) => v.isNegative())).negated();
  const grossExposure = longMarketValue.plus(shortMarketValue);
  const requirements = model.requirements(book);
  const maintenance = requirements.maintenance;
  const excessLiquidity = equity.minus(maintenance);
  const reserved = openOrderReservation(model, book);
  const initialRequirement = reserved ? requirements.initial.plus(reserved.total) : requirements.initial;
  const funds = model.funds(book, {
    equity,
    initialRequirement,
    maintenanceRequirement: maintenance,
    excessLiquidity,
    ...(reserved ? { openOrderInitial: reserved.total } : {}),
  });

  const everyIndex = positions.map((_, i) => i);
  const uniform = {
    equityConstant: constant,
    equitySlope: sum(values),
    curve: sharedSamples(model.curve(book, everyIndex)),
  };
  const move = (threshold: Decimal) => rootsToMove(solveScale({ ...uniform, threshold }));

  const positionEvaluations: PositionEvaluation[] = positions.map((p, i) => {
    const [callPrice, zeroEquityPrice] =
      options.positionPrices === false
        ? [undefined, undefined]
        : thresholdPrices(
            (b, moving, axis) => model.curve(b, moving, axis),
            book,
            i,
            equity.minus(values[i]!),
            [params.callRatio, ZERO],
          );
    return {
      instrument: p.instrument,
      quantity: p.quantity,
      price: p.price,
      marketValue: values[i]!,
      initialRequirement: requirements.perPosition[i]!.initial,
      maintenanceRequirement: requirements.perPosition[i]!.maintenance,
      callPrice,
      zeroEquityPrice,
      ...(model.positionExtras && options.positionPrices !== false ? model.positionExtras(book, i) : {}),
    };
  });

  const marginRatio = maintenance.isZero() ? null : equity.dividedBy(maintenance);
  const inMarginCall =
    equity.lessThan(maintenance.times(params.callRatio)) || (maintenance.isZero() && equity.isNegative());
  return {
    accountId: account.id,
    model: model.name,
    asOf: book.asOf,
    cash: account.cash,
    equity,
    longMarketValue,
    shortMarketValue,
    grossExposure,
    netExposure: longMarketValue.minus(shortMarketValue),
    leverage: leverageOf(grossExposure, equity),
    initialRequirement,
    maintenanceRequirement: maintenance,
    excessLiquidity,
    availableFunds: funds.availableFunds,
    buyingPower: funds.buyingPower,
    marginRatio,
    marginLevelPct: grossExposure.isZero() ? null : equity.dividedBy(grossExposure).times(100),
    callRatio: params.callRatio,
    inMarginCall,
    distanceToCall: grossExposure.isZero()
      ? flatBookDistance(inMarginCall, equity)
      : { call: move(params.callRatio), zeroEquity: move(ZERO) },
    positions: positionEvaluations,
    details: reserved ? { ...funds.details, openOrderInitial: reserved.total } : funds.details,
    violations: funds.violations,
  };
}

/** Raw input (decimal strings) → evaluation. Throws InputError naming the field on bad input. */
export function evaluate(raw: unknown, options: EvaluateOptions = {}): Evaluation {
  const { model, book } = buildBook(parseEvaluationInput(raw, { model: options.model }), options);
  return evaluateBook(model, book, options);
}

/**
 * evaluate() for a book a user submits whole (`margin-guard evaluate FILE`): the model's
 * `validateSubmitted` rules too (a tiered table for an instrument not held). Not for stored books, whose
 * closed positions are dropped before evaluating (the pipeline, local mode's chart).
 */
export function evaluateSubmitted(raw: unknown, options: EvaluateOptions = {}): Evaluation {
  const { model, book } = buildBook(parseEvaluationInput(raw, { model: options.model }), options);
  const issues = model.validateSubmitted?.(book) ?? [];
  if (issues.length > 0) throw new InputError(issues);
  return evaluateBook(model, book, options);
}
