import { Decimal, ONE } from '../../decimal.ts';
import type { Position } from '../../schemas/position.ts';
import { rootsToMove, type ScaleRoots } from '../distance.ts';
import type { Evaluation, PositionEvaluation } from '../evaluation.ts';
import type { Book, CommonParams, Funds, MarginModel } from '../model.ts';
import type { ModelName } from '../../schemas/account.ts';
import type { SeparableForm } from '../separable.ts';
import { compiledPositions, type CompiledCurve, type CompiledPosition } from './compile.ts';
import { OVERFLOW, decimalOf, raise, safe, scaledOf, type Scaled } from './scaled.ts';

/**
 * The summary evaluation (no per-position call prices) of a separable book in scaled-integer arithmetic.
 *
 * Sums and products run on safe integers at one scale for the whole book, so they are exact and cost a
 * float64 operation each; decimal.js is used only for the few results that need division (ratios, funds,
 * solved moves), fed with the same exact operands as the reference engine and calling the same
 * operations, so every output is the same decimal, string for string. Anything outside what the integers
 * prove exact returns null and the caller uses the reference engine: a mantissa past 2⁵³, a price exactly
 * on a breakpoint, two solver breakpoints too close to order in float64. docs/margin-models.md lists the
 * proof obligations; test/margin/fast-summary.property.test.ts checks them against the reference.
 */
export function fastSummary(
  model: MarginModel<CommonParams>,
  book: Book<CommonParams>,
  form: SeparableForm,
  reference: () => Evaluation,
): Evaluation | null {
  try {
    return summaryOf(model, book, form, reference);
  } catch (e) {
    if (e === OVERFLOW) return null;
    throw e;
  }
}

const U = Number.EPSILON;

/** How many summaries took the fast path, fell back to the reference engine, or fell back for the distance only. */
export const fastPathStats = { fast: 0, reference: 0, distanceFallbacks: 0 };

function must<T>(value: T | null): T {
  if (value === null) throw OVERFLOW;
  return value;
}

/** The piece of `curve` that holds `price`; a price exactly on a breakpoint leaves the fast path. */
function pieceOf(curve: CompiledCurve, price: Decimal, priceFloat: number): number {
  let k = 0;
  while (k < curve.bps.length) {
    const bp = curve.bpFloat[k]!;
    // Rounding to float64 is monotone: a strict float order is the exact order.
    if (priceFloat > bp || (priceFloat === bp && price.greaterThan(curve.bps[k]!))) k++;
    else if (priceFloat === bp && price.equals(curve.bps[k]!)) throw OVERFLOW;
    else break;
  }
  return k;
}

/** m at scale s, raised to scale `to`. */
function at(value: Scaled, to: number): number {
  return raise(value.m, to - value.s);
}

/** coefficient · price at scale `to`. */
function times(coefficient: Scaled, price: Scaled, to: number): number {
  return raise(safe(coefficient.m * price.m), to - coefficient.s - price.s);
}

/** A per-position line with the decimals made on first read: most summaries never read them. */
class SummaryPosition implements PositionEvaluation {
  readonly instrument: string;
  readonly quantity: Decimal;
  readonly price: Decimal;
  constructor(
    position: Position,
    private readonly value: number,
    private readonly initial: number,
    private readonly maintenance: number,
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

interface Mover {
  compiled: CompiledCurve;
  price: Decimal;
  scaledPrice: Scaled;
  priceFloat: number;
  /** The maintenance piece today's price is on. */
  piece: number;
}

function summaryOf(
  model: MarginModel<CommonParams>,
  book: Book<CommonParams>,
  form: SeparableForm,
  reference: () => Evaluation,
): Evaluation {
  const { positions, params, account } = book;
  const n = positions.length;
  const cash = must(scaledOf(account.cash));
  const accountMaintenance = must(scaledOf(form.accountMaintenance));
  const compiled: CompiledPosition[] = [];
  const movers: Mover[] = [];
  const pieces: number[] = [];
  let scale = Math.max(cash.s, accountMaintenance.s);
  const tables = compiledPositions(form.rule, positions);
  for (let i = 0; i < n; i++) {
    const position = positions[i]!;
    const c = must(tables[i]!);
    const price = must(scaledOf(position.price));
    const priceFloat = price.m / 10 ** price.s; // correctly rounded: both operands are exact
    const piece = pieceOf(c.maintenance, position.price, priceFloat);
    const initialPiece = pieceOf(c.initial, position.price, priceFloat);
    compiled.push(c);
    pieces.push(initialPiece);
    movers.push({ compiled: c.maintenance, price: position.price, scaledPrice: price, priceFloat, piece });
    scale = Math.max(scale, c.exposure.s + price.s, c.entryValue?.s ?? 0, c.initial.a[initialPiece]!.s);
    scale = Math.max(scale, c.initial.b[initialPiece]!.s + price.s);
    // The solver visits every maintenance piece: one scale must hold them all.
    for (let k = 0; k < c.maintenance.a.length; k++)
      scale = Math.max(scale, c.maintenance.a[k]!.s, c.maintenance.b[k]!.s + price.s);
  }

  const values: number[] = [];
  const initials: number[] = [];
  const maintenances: number[] = [];
  let constant = at(cash, scale);
  let slope = 0;
  let long = 0;
  let short = 0;
  let initial = 0;
  let maintenance = at(accountMaintenance, scale);
  for (let i = 0; i < n; i++) {
    const c = compiled[i]!;
    const { scaledPrice: price, piece } = movers[i]!;
    const value = times(c.exposure, price, scale);
    const init = safe(at(c.initial.a[pieces[i]!]!, scale) + times(c.initial.b[pieces[i]!]!, price, scale));
    const maint = safe(at(c.maintenance.a[piece]!, scale) + times(c.maintenance.b[piece]!, price, scale));
    values.push(value);
    initials.push(init);
    maintenances.push(maint);
    slope = safe(slope + value);
    if (value >= 0) long = safe(long + value);
    else short = safe(short - value);
    initial = safe(initial + init);
    maintenance = safe(maintenance + maint);
    // A derivative's cash never bought the contract: equity counts only the move from entry.
    if (model.valuation === 'derivative')
      constant = safe(constant - (c.entryValue ? at(c.entryValue, scale) : value));
  }
  const theta = must(scaledOf(params.callRatio));
  const equity = safe(constant + slope);
  return new FastEvaluation(model, book, reference, {
    scale,
    equity,
    long,
    short,
    initial,
    maintenance,
    // equity < callRatio · maintenance, both sides at scale + θ's scale.
    inMarginCall:
      safe(raise(equity, theta.s)) < safe(theta.m * maintenance) || (maintenance === 0 && equity < 0),
    theta,
    values,
    initials,
    maintenances,
    solver: () =>
      new UniformSolver(movers, scale, constant, slope, at(accountMaintenance, scale), maintenance),
  });
}

/** The exact integers a summary is made of, at one scale. */
interface Core {
  scale: number;
  equity: number;
  long: number;
  short: number;
  initial: number;
  maintenance: number;
  inMarginCall: boolean;
  theta: Scaled;
  values: number[];
  initials: number[];
  maintenances: number[];
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

  private decimal(m: number): Decimal {
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
    return (this.grossMemo ??= this.decimal(safe(this.core.long + this.core.short)));
  }
  get netExposure() {
    return this.decimal(safe(this.core.long - this.core.short));
  }
  get initialRequirement() {
    return this.decimal(this.core.initial);
  }
  get maintenanceRequirement() {
    return (this.maintenanceMemo ??= this.decimal(this.core.maintenance));
  }
  get excessLiquidity() {
    return this.decimal(safe(this.core.equity - this.core.maintenance));
  }
  get leverage() {
    return this.equity.isPositive() ? this.grossExposure.dividedBy(this.equity) : null;
  }
  get marginRatio() {
    if (this.ratioMemo === undefined)
      this.ratioMemo =
        this.core.maintenance === 0 ? null : this.equity.dividedBy(this.maintenanceRequirement);
    return this.ratioMemo;
  }
  get marginLevelPct() {
    return this.core.long + this.core.short === 0
      ? null
      : this.equity.dividedBy(this.grossExposure).times(100);
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
    return (this.distanceMemo ??= this.solveDistance());
  }
  private solveDistance(): Evaluation['distanceToCall'] {
    try {
      const solver = this.core.solver();
      return {
        call: rootsToMove(solver.roots(this.core.theta)),
        zeroEquity: rootsToMove(solver.roots({ m: 0, s: 0 })),
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
  values: number[],
  initials: number[],
  maintenances: number[],
  scale: number,
): PositionEvaluation[] {
  const result: PositionEvaluation[] = [];
  for (let i = 0; i < positions.length; i++)
    result.push(new SummaryPosition(positions[i]!, values[i]!, initials[i]!, maintenances[i]!, scale));
  return result;
}

interface Piece {
  alpha: number;
  beta: number;
}

/** The reference engine's root: −alpha / beta in decimal.js. */
function rootOf(p: Piece, scale: number): Decimal {
  return decimalOf(-p.alpha, scale).dividedBy(decimalOf(p.beta, scale));
}

const ascending = (x: Crossing, y: Crossing) => x.float - y.float;
const descending = (x: Crossing, y: Crossing) => y.float - x.float;

/** Where one position's requirement changes piece on the uniform-move axis: s = breakpoint / price. */
interface Crossing {
  mover: number;
  /** Index of the breakpoint in the mover's curve: crossing it moves between pieces k and k + 1. */
  k: number;
  float: number;
}

/** Crossings at one point of the axis (several positions can share one). */
interface Group {
  crossings: Crossing[];
  float: number;
  /** The reference engine's own value of the point, bp.dividedBy(price), made when first needed. */
  exact: Decimal | null;
}

/**
 * The uniform-move solver of distance.ts (gap(s) = equity(s) − θ·maintenance(s), affine between the
 * breakpoints of every position) on scaled integers. Each segment's coefficients are exact integers;
 * whether gap ≤ 0 at a breakpoint is decided in float64 when the error bound allows and by the reference
 * engine's own decimal comparison otherwise; the root is the reference engine's division.
 */
class UniformSolver {
  private readonly below: Group[];
  private readonly above: Group[];
  /** Σ piece intercepts (a) and Σ piece slopes · price (b) of each segment walked, memoised across θ. */
  private readonly segmentsDown: { a: number; b: number }[] = [];
  private readonly segmentsUp: { a: number; b: number }[] = [];

  constructor(
    private readonly movers: Mover[],
    private readonly scale: number,
    private readonly constant: number,
    private readonly slope: number,
    private readonly accountMaintenance: number,
    private readonly maintenance: number,
  ) {
    const down: Crossing[] = [];
    const up: Crossing[] = [];
    for (let mover = 0; mover < movers.length; mover++) {
      const m = movers[mover]!;
      const bps = m.compiled.bpFloat;
      for (let k = 0; k < bps.length; k++)
        (k < m.piece ? down : up).push({ mover, k, float: bps[k]! / m.priceFloat });
    }
    this.below = down.length === 0 ? [] : this.group(down.sort(descending));
    this.above = up.length === 0 ? [] : this.group(up.sort(ascending));
  }

  /** Exactly equal points merge (the reference dedupes them); points too close to order leave the fast path. */
  private group(sorted: Crossing[]): Group[] {
    const groups: Group[] = [];
    for (const c of sorted) {
      const last = groups[groups.length - 1];
      if (last && Math.abs(c.float - last.float) <= 16 * U * Math.abs(last.float)) {
        if (!this.exactPoint(last).equals(this.pointOf(c))) throw OVERFLOW;
        last.crossings.push(c);
      } else groups.push({ crossings: [c], float: c.float, exact: null });
    }
    return groups;
  }

  private pointOf(c: Crossing): Decimal {
    const m = this.movers[c.mover]!;
    return m.compiled.bps[c.k]!.dividedBy(m.price);
  }

  private exactPoint(g: Group): Decimal {
    return (g.exact ??= this.pointOf(g.crossings[0]!));
  }

  private pieceTerms(mover: number, k: number): { a: number; b: number } {
    const m = this.movers[mover]!;
    return {
      a: at(m.compiled.a[k]!, this.scale),
      b: times(m.compiled.b[k]!, m.scaledPrice, this.scale),
    };
  }

  private today(): { a: number; b: number } {
    let a = this.accountMaintenance;
    let b = 0;
    for (let i = 0; i < this.movers.length; i++) {
      const m = this.movers[i]!;
      a = safe(a + at(m.compiled.a[m.piece]!, this.scale));
      b = safe(b + times(m.compiled.b[m.piece]!, m.scaledPrice, this.scale));
    }
    return { a, b };
  }

  /** Segment j's sums; segment j + 1 is reached by crossing group j (down: piece k+1 → k; up: k → k+1). */
  private segment(j: number, direction: 'down' | 'up'): { a: number; b: number } {
    const memo = direction === 'down' ? this.segmentsDown : this.segmentsUp;
    const groups = direction === 'down' ? this.below : this.above;
    if (memo.length === 0) memo.push(this.today());
    while (memo.length <= j) {
      let { a, b } = memo[memo.length - 1]!;
      for (const c of groups[memo.length - 1]!.crossings) {
        const [from, to] = direction === 'down' ? [c.k + 1, c.k] : [c.k, c.k + 1];
        const leaving = this.pieceTerms(c.mover, from);
        const entering = this.pieceTerms(c.mover, to);
        a = safe(safe(a - leaving.a) + entering.a);
        b = safe(safe(b - leaving.b) + entering.b);
      }
      memo.push({ a, b });
    }
    return memo[j]!;
  }

  roots(theta: Scaled): ScaleRoots {
    // gap(1) = equity − θ·maintenance, at scale + θ.s
    if (safe(raise(safe(this.constant + this.slope), theta.s) - safe(theta.m * this.maintenance)) <= 0)
      return { breached: true, origin: ONE, down: ONE, up: ONE };
    const s = this.scale + theta.s;
    let down: Decimal | null = null;
    for (let j = 0; j <= this.below.length; j++) {
      const p = this.piece(j, 'down', theta);
      const hi = this.below[j - 1];
      if (hi ? this.reachedAt(p, hi, s) : safe(p.alpha + p.beta) <= 0) {
        down = hi ? this.exactPoint(hi) : ONE;
        break;
      }
      const lo = this.below[j];
      if (lo ? this.reachedAt(p, lo, s) : p.alpha <= 0) {
        down = rootOf(p, s);
        break;
      }
    }
    let up: Decimal | null = null;
    for (let j = 0; j <= this.above.length; j++) {
      const p = this.piece(j, 'up', theta);
      const lo = this.above[j - 1];
      if (lo ? this.reachedAt(p, lo, s) : safe(p.alpha + p.beta) <= 0) {
        up = lo ? this.exactPoint(lo) : ONE;
        break;
      }
      const hi = this.above[j];
      if (hi ? this.reachedAt(p, hi, s) : p.beta < 0) {
        up = rootOf(p, s);
        break;
      }
    }
    return { breached: false, origin: ONE, down, up };
  }

  /** gap on segment j as alpha + beta·s, at scale + θ.s. */
  private piece(j: number, direction: 'down' | 'up', theta: Scaled): Piece {
    const { a, b } = this.segment(j, direction);
    return {
      alpha: safe(raise(this.constant, theta.s) - safe(theta.m * a)),
      beta: safe(raise(this.slope, theta.s) - safe(theta.m * b)),
    };
  }

  /** alpha + beta·x ≤ 0 at a breakpoint x: float64 when the error bound decides, else the reference's test. */
  private reachedAt(p: Piece, g: Group, s: number): boolean {
    const product = p.beta * g.float;
    const value = p.alpha + product;
    // alpha and beta are exact; x carries ≤ 3 roundings (breakpoint, price, quotient) and two more follow.
    if (Math.abs(value) > 64 * U * (Math.abs(p.alpha) + Math.abs(product))) return value <= 0;
    return decimalOf(p.alpha, s)
      .plus(decimalOf(p.beta, s).times(this.exactPoint(g)))
      .lessThanOrEqualTo(0);
  }
}
