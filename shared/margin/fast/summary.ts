import { ZERO, type Decimal } from '../../decimal.ts';
import type { Position } from '../../schemas/position.ts';
import { flatBookDistance, rootsToMove } from '../distance.ts';
import { leverageOf, type Evaluation, type PositionEvaluation } from '../evaluation.ts';
import type { Book, CommonParams, Funds, MarginModel } from '../model.ts';
import type { ModelName } from '../../schemas/account.ts';
import type { SeparableForm } from '../model.ts';
import { compiledPositions, type CompiledPosition } from './compile.ts';
import {
  OVERFLOW,
  POW10,
  decimalOf,
  lifted,
  minus,
  plus,
  product,
  scaleBy,
  scaledOf,
  shift,
  type Int,
  type Scaled,
} from './scaled.ts';
import { UniformSolver, type Mover } from './uniform-solver.ts';
import { exactDecision, fastPathStats } from './stats.ts';
import { hasOptions } from '../options/contract.ts';

/** θ = 0: the zero-equity move. */
const NO_THRESHOLD = scaledOf(ZERO);

/**
 * The summary evaluation (no per-position call prices) of a separable book in scaled-integer arithmetic.
 *
 * Sums and products run on exact integers at one scale for the whole book (float64 where a static bound
 * proves them below 2⁵³, BigInt otherwise); decimal.js is used only for the few results that need division
 * (ratios, funds, solved moves), fed the same exact operands as the reference engine and calling the same
 * operations, so every output is the same decimal, string for string. What the integers cannot prove
 * returns null and the caller uses the reference engine: a term past 10³⁶ (where decimal.js's 40 digits
 * would round), a price exactly on a breakpoint, a rule that cannot be compiled. docs/margin-models.md lists the proof obligations;
 * test/property/fast-summary.*.differential.test.ts hold the fast path to the reference.
 */
export function fastSummary(
  model: MarginModel<CommonParams>,
  book: Book<CommonParams>,
  form: SeparableForm,
  reference: () => Evaluation,
): Evaluation | null {
  // Option books are not separable (strategies net legs): the reference engine evaluates them (issue 27).
  if (hasOptions(book.positions)) return null;
  try {
    return summaryOf(model, book, form, reference);
  } catch (e) {
    if (e === OVERFLOW) return null;
    throw e;
  }
}

function must<T>(value: T | null): T {
  if (value === null) throw OVERFLOW;
  return value;
}

/**
 * The piece of the position's table that holds `price`. Floats order the price against each breakpoint when they are
 * further apart than their rounding; closer than that, decimal.js compares. A price exactly on a
 * breakpoint leaves the fast path: a rule may jump there, and the tables hold only the open pieces.
 */
function pieceOf(table: CompiledPosition, price: Decimal, priceFloat: number): number {
  let k = 0;
  while (k < table.bps.length) {
    const bp = table.bpFloat[k]!;
    const order =
      Math.abs(priceFloat - bp) > 4 * Number.EPSILON * Math.abs(bp)
        ? Math.sign(priceFloat - bp)
        : exactDecision(price.comparedTo(table.bps[k]!));
    if (order === 0) throw OVERFLOW;
    if (order < 0) break;
    k++;
  }
  return k;
}

/** A per-position line with the decimals made on first read: most summaries never read them. */
class SummaryPosition implements PositionEvaluation {
  readonly instrument: string;
  readonly quantity: Decimal;
  readonly price: Decimal;
  constructor(
    position: Position,
    private readonly value: Int,
    private readonly initial: Int,
    private readonly maintenance: Int,
    private readonly scale: number,
  ) {
    this.instrument = position.instrument;
    this.quantity = position.quantity;
    this.price = position.price;
  }
  get marketValue(): Decimal {
    return decimalOf(this.value, this.scale);
  }
  get initialRequirement(): Decimal {
    return decimalOf(this.initial, this.scale);
  }
  get maintenanceRequirement(): Decimal {
    return decimalOf(this.maintenance, this.scale);
  }
}

function summaryOf(
  model: MarginModel<CommonParams>,
  book: Book<CommonParams>,
  form: SeparableForm,
  reference: () => Evaluation,
): Evaluation {
  const { positions, params, account } = book;
  const n = positions.length;
  const cash = scaledOf(account.cash);
  const accountMaintenance = scaledOf(form.accountMaintenance);
  const compiled: CompiledPosition[] = [];
  const movers: Mover[] = [];
  let scale = Math.max(cash.s, accountMaintenance.s);
  const tables = compiledPositions(form.rule, positions);
  for (let i = 0; i < n; i++) {
    const position = positions[i]!;
    const c = must(tables[i]!);
    const price = scaledOf(position.price);
    // Only ever compared with a tolerance (pieceOf, the solver): two roundings are fine.
    const priceFloat =
      price.s <= 22 && !Number.isNaN(price.n) ? price.n / POW10[price.s]! : position.price.toNumber();
    const piece = pieceOf(c, position.price, priceFloat);
    compiled.push(c);
    movers.push({ compiled: c, price: position.price, scaledPrice: price, priceFloat, piece });
    scale = Math.max(scale, c.exposure.s + price.s, c.entryValue?.s ?? 0, c.initialA[piece]!.s);
    scale = Math.max(scale, c.initialB[piece]!.s + price.s);
    // The solver visits every maintenance piece: one scale must hold them all.
    for (let k = 0; k < c.maintenanceA.length; k++)
      scale = Math.max(scale, c.maintenanceA[k]!.s, c.maintenanceB[k]!.s + price.s);
  }

  const theta = scaledOf(params.callRatio);
  // The float64 tier when a static bound proves every integer below 2⁵³ (so every operation is exact):
  // at most 3n + 3 terms summed, the solver's θ·sums and the shift by θ's scale, then one subtraction.
  const headroom = (3 * n + 3) * Math.max(10 ** theta.s, Math.abs(theta.n)) * 2 * 1.01;
  const float = largestTerm(cash, accountMaintenance, compiled, movers, scale) * headroom < 2 ** 53;
  const sums = bookSums(model.valuation, cash, accountMaintenance, compiled, movers, scale, float);
  if (float) fastPathStats.floatTier += 1;
  const { constant, slope, long, short, initial, maintenance } = sums;
  const equity = plus(constant, slope);
  const gross = plus(long, short);
  return new FastEvaluation(model, book, reference, {
    scale,
    equity,
    long,
    short,
    gross,
    net: minus(long, short),
    excess: minus(equity, maintenance),
    initial,
    maintenance,
    // equity < callRatio · maintenance, both sides at scale + θ's scale.
    inMarginCall: shift(equity, theta.s) < scaleBy(theta, maintenance) || (maintenance == 0 && equity < 0),
    theta,
    values: sums.values,
    initials: sums.initials,
    maintenances: sums.maintenances,
    solver: () => new UniformSolver(movers, scale, constant, slope, sums.accountMaintenance, maintenance),
  });
}

/**
 * The largest magnitude of any term the sums and the solver will hold, estimated in float64 (a few
 * roundings, covered by the 1% margin of the caller); Infinity when a factor is not a safe integer.
 */
function largestTerm(
  cash: Scaled,
  accountMaintenance: Scaled,
  compiled: readonly CompiledPosition[],
  movers: readonly Mover[],
  scale: number,
): number {
  const alone = (x: Scaled) => Math.abs(x.n) * 10 ** (scale - x.s);
  const product = (x: Scaled, price: Scaled) => Math.abs(x.n * price.n) * 10 ** (scale - x.s - price.s);
  let largest = Math.max(alone(cash), alone(accountMaintenance));
  for (let i = 0; i < compiled.length; i++) {
    const c = compiled[i]!;
    const { scaledPrice: price, piece } = movers[i]!;
    largest = Math.max(
      largest,
      product(c.exposure, price),
      alone(c.initialA[piece]!),
      product(c.initialB[piece]!, price),
      c.entryValue ? alone(c.entryValue) : 0,
    );
    for (let k = 0; k < c.maintenanceA.length; k++)
      largest = Math.max(largest, alone(c.maintenanceA[k]!), product(c.maintenanceB[k]!, price));
  }
  return Number.isNaN(largest) ? Infinity : largest;
}

/** The book's sums at one scale: equity's constant and slope, exposures, requirements, per position. */
interface Sums {
  constant: Int;
  slope: Int;
  long: Int;
  short: Int;
  initial: Int;
  maintenance: Int;
  accountMaintenance: Int;
  values: Int[];
  initials: Int[];
  maintenances: Int[];
}

function bookSums(
  valuation: 'spot' | 'derivative',
  cash: Scaled,
  accountMaintenance: Scaled,
  compiled: readonly CompiledPosition[],
  movers: readonly Mover[],
  scale: number,
  float: boolean,
): Sums {
  const zero: Int = float ? 0 : 0n;
  const account = lifted(accountMaintenance, scale, float);
  const result: Sums = {
    constant: lifted(cash, scale, float),
    slope: zero,
    long: zero,
    short: zero,
    initial: zero,
    maintenance: account,
    accountMaintenance: account,
    values: [],
    initials: [],
    maintenances: [],
  };
  for (let i = 0; i < compiled.length; i++) {
    const c = compiled[i]!;
    const { scaledPrice: price, piece } = movers[i]!;
    const value = product(c.exposure, price, scale, float);
    const init = plus(
      lifted(c.initialA[piece]!, scale, float),
      product(c.initialB[piece]!, price, scale, float),
    );
    const maint = plus(
      lifted(c.maintenanceA[piece]!, scale, float),
      product(c.maintenanceB[piece]!, price, scale, float),
    );
    result.values.push(value);
    result.initials.push(init);
    result.maintenances.push(maint);
    result.slope = plus(result.slope, value);
    if (value >= 0) result.long = plus(result.long, value);
    else result.short = minus(result.short, value);
    result.initial = plus(result.initial, init);
    result.maintenance = plus(result.maintenance, maint);
    // A derivative's cash never bought the contract: equity counts only the move from entry.
    if (valuation === 'derivative')
      result.constant = minus(result.constant, c.entryValue ? lifted(c.entryValue, scale, float) : value);
  }
  return result;
}

/** The exact integers a summary is made of, at one scale. */
interface Core {
  scale: number;
  equity: Int;
  long: Int;
  short: Int;
  gross: Int;
  net: Int;
  excess: Int;
  initial: Int;
  maintenance: Int;
  inMarginCall: boolean;
  theta: Scaled;
  values: Int[];
  initials: Int[];
  maintenances: Int[];
  solver: () => UniformSolver;
}

/**
 * The summary, with each decimal made on first read from the exact integers: the evaluator reads the
 * ratio and equity of most evaluations and nothing else, and a decimal costs as much as the integers of a
 * whole book. Every getter gives the reference engine's value for the same field.
 */
class FastEvaluation implements Evaluation {
  readonly accountId: string;
  readonly model: ModelName;
  readonly asOf: string;
  readonly cash: Decimal;
  readonly callRatio: Decimal;
  readonly inMarginCall: boolean;
  private equityMemo?: Decimal;
  private maintenanceMemo?: Decimal;
  private grossMemo?: Decimal;
  private ratioMemo?: Decimal | null;
  private fundsMemo?: Funds;
  private distanceMemo?: Evaluation['distanceToCall'];
  private positionsMemo?: PositionEvaluation[];

  constructor(
    private readonly engine: MarginModel<CommonParams>,
    private readonly book: Book<CommonParams>,
    private readonly reference: () => Evaluation,
    private readonly core: Core,
  ) {
    this.accountId = book.account.id;
    this.model = engine.name;
    this.asOf = book.asOf;
    this.cash = book.account.cash;
    this.callRatio = book.params.callRatio;
    this.inMarginCall = core.inMarginCall;
  }

  private decimal(m: Int): Decimal {
    return decimalOf(m, this.core.scale);
  }

  get equity() {
    return (this.equityMemo ??= this.decimal(this.core.equity));
  }
  get longMarketValue() {
    return this.decimal(this.core.long);
  }
  get shortMarketValue() {
    return this.decimal(this.core.short);
  }
  get grossExposure() {
    return (this.grossMemo ??= this.decimal(this.core.gross));
  }
  get netExposure() {
    return this.decimal(this.core.net);
  }
  get initialRequirement() {
    return this.decimal(this.core.initial);
  }
  get maintenanceRequirement() {
    return (this.maintenanceMemo ??= this.decimal(this.core.maintenance));
  }
  get excessLiquidity() {
    return this.decimal(this.core.excess);
  }
  get leverage() {
    return leverageOf(this.grossExposure, this.equity);
  }
  get marginRatio() {
    if (this.ratioMemo === undefined)
      this.ratioMemo = this.core.maintenance == 0 ? null : this.equity.dividedBy(this.maintenanceRequirement);
    return this.ratioMemo;
  }
  get marginLevelPct() {
    return this.core.gross == 0 ? null : this.equity.dividedBy(this.grossExposure).times(100);
  }
  private get funds() {
    return (this.fundsMemo ??= this.engine.funds(this.book, {
      equity: this.equity,
      initialRequirement: this.initialRequirement,
      maintenanceRequirement: this.maintenanceRequirement,
      excessLiquidity: this.excessLiquidity,
    }));
  }
  get availableFunds() {
    return this.funds.availableFunds;
  }
  get buyingPower() {
    return this.funds.buyingPower;
  }
  get details() {
    return this.funds.details;
  }
  get violations() {
    return this.funds.violations;
  }
  get distanceToCall() {
    return (this.distanceMemo ??=
      this.core.gross == 0 ? flatBookDistance(this.inMarginCall, this.equity) : this.solveDistance());
  }
  private solveDistance(): Evaluation['distanceToCall'] {
    try {
      const solver = this.core.solver();
      return {
        call: rootsToMove(solver.roots(this.core.theta)),
        zeroEquity: rootsToMove(solver.roots(NO_THRESHOLD)),
      };
    } catch (e) {
      if (e !== OVERFLOW) throw e;
      fastPathStats.distanceFallbacks += 1;
      return this.reference().distanceToCall;
    }
  }
  get positions() {
    const { values, initials, maintenances, scale } = this.core;
    return (this.positionsMemo ??= summaryPositions(
      this.book.positions,
      values,
      initials,
      maintenances,
      scale,
    ));
  }
}

function summaryPositions(
  positions: readonly Position[],
  values: Int[],
  initials: Int[],
  maintenances: Int[],
  scale: number,
): PositionEvaluation[] {
  const result: PositionEvaluation[] = [];
  for (let i = 0; i < positions.length; i++)
    result.push(new SummaryPosition(positions[i]!, values[i]!, initials[i]!, maintenances[i]!, scale));
  return result;
}
