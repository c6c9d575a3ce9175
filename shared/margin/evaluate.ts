import { Decimal, ZERO, sum } from '../decimal.ts';
import { todayUtc } from '../calendar.ts';
import { InputError, parseOrThrow } from '../errors.ts';
import { accountSchema, modelName, type Account, type ModelName } from '../schemas/account.ts';
import { positionsSchema, type Position } from '../schemas/position.ts';
import { rootsToMove, sharedSamples, solveScale } from './distance.ts';
import type { Evaluation, PositionEvaluation } from './evaluation.ts';
import type { Book, CommonParams, MarginModel } from './model.ts';
import { MODELS } from './registry.ts';
import { fastPathStats } from './fast/stats.ts';
import { fastSummary } from './fast/summary.ts';
import { thresholdPrices } from './single-position.ts';

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

/** Validates raw input (decimal strings) into domain values; every problem names its field. */
export function parseEvaluationInput(raw: unknown): ValidatedInput {
  if (typeof raw !== 'object' || raw === null)
    throw InputError.single('(root)', 'expected an object with account and positions');
  const { account, positions } = raw as Record<string, unknown>;
  const issues = [];
  let parsedAccount: Account | undefined;
  let parsedPositions: Position[] | undefined;
  try {
    parsedAccount = parseOrThrow(accountSchema, account, ['account']);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    issues.push(...e.issues);
  }
  try {
    parsedPositions = parseOrThrow(positionsSchema, positions ?? [], ['positions']);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    issues.push(...e.issues);
  }
  if (issues.length > 0) throw new InputError(issues);
  return { account: parsedAccount!, positions: parsedPositions! };
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
  const issues = model.validate(book);
  if (issues.length > 0) throw new InputError(issues);
  return { model, book };
}

const parsedParams = new WeakMap<Account, Map<ModelName, CommonParams>>();

/**
 * The model's params for this account, validated with zod once per account object: a re-priced tick
 * reuses the account ParsedInputCache validated, and so its params.
 */
function paramsOf(model: MarginModel<CommonParams>, account: Account): CommonParams {
  let byModel = parsedParams.get(account);
  if (!byModel) parsedParams.set(account, (byModel = new Map()));
  let params = byModel.get(model.name);
  if (!params) {
    params = parseOrThrow(model.paramsSchema, paramsFor(model, account), ['account', 'params']);
    byModel.set(model.name, params);
  }
  return params;
}

/**
 * A what-if under another model keeps the params that model accepts (callRatio, initialRate…) and drops
 * the ones it does not know or allow (e.g. a 20% initial rate under Reg T); for the account's own model
 * every key must be known and valid.
 */
function paramsFor(model: MarginModel<CommonParams>, account: Account): Record<string, unknown> {
  if (model.name === account.model) return account.params;
  const result = model.paramsSchema.safeParse(account.params);
  if (result.success) return account.params;
  const foreign = new Set(
    result.error.issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys' && issue.path.length === 0 ? issue.keys : [String(issue.path[0])],
    ),
  );
  return Object.fromEntries(Object.entries(account.params).filter(([key]) => !foreign.has(key)));
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
  if (options.positionPrices === false && model.separable) {
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
  const funds = model.funds(book, {
    equity,
    initialRequirement: requirements.initial,
    maintenanceRequirement: maintenance,
    excessLiquidity,
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
    leverage: equity.isPositive() ? grossExposure.dividedBy(equity) : null,
    initialRequirement: requirements.initial,
    maintenanceRequirement: maintenance,
    excessLiquidity,
    availableFunds: funds.availableFunds,
    buyingPower: funds.buyingPower,
    marginRatio,
    marginLevelPct: grossExposure.isZero() ? null : equity.dividedBy(grossExposure).times(100),
    callRatio: params.callRatio,
    inMarginCall:
      equity.lessThan(maintenance.times(params.callRatio)) || (maintenance.isZero() && equity.isNegative()),
    distanceToCall: { call: move(params.callRatio), zeroEquity: move(ZERO) },
    positions: positionEvaluations,
    details: funds.details,
    violations: funds.violations,
  };
}

/** Raw input (decimal strings) → evaluation. Throws InputError naming the field on bad input. */
export function evaluate(raw: unknown, options: EvaluateOptions = {}): Evaluation {
  const { model, book } = buildBook(parseEvaluationInput(raw), options);
  return evaluateBook(model, book, options);
}
