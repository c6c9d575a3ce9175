import type { z } from 'zod';
import type { Decimal } from '../decimal.ts';
import type { FieldIssue } from '../errors.ts';
import type { Account, ModelName } from '../schemas/account.ts';
import type { Position } from '../schemas/position.ts';

/** Everything a model needs to price a book: validated account, positions and the model's own params. */
export interface Book<P = unknown> {
  account: Account;
  positions: readonly Position[];
  params: P;
  /** The evaluation date (YYYY-MM-DD), for settlement rules. */
  asOf: string;
}

export interface Requirement {
  initial: Decimal;
  maintenance: Decimal;
}

export interface BookRequirements {
  perPosition: Requirement[];
  initial: Decimal;
  maintenance: Decimal;
}

/** What the engine has computed before asking the model for funds. */
export interface CoreFigures {
  equity: Decimal;
  initialRequirement: Decimal;
  maintenanceRequirement: Decimal;
  excessLiquidity: Decimal;
  /**
   * The part of initialRequirement that open orders reserve (account.openOrders; zero or absent without
   * them): models that price buying power from something other than available funds subtract it there.
   */
  openOrderInitial?: Decimal;
}

export interface Funds {
  availableFunds: Decimal;
  buyingPower: Decimal;
  /** Model-specific figures (SMA, day-trading buying power, settled cash…), decimal or plain values. */
  details: Record<string, Decimal | boolean | string | number | null>;
  /** Rule breaches that are facts about the account, not bad input (e.g. a cash-account debit). */
  violations: string[];
}

/**
 * scale: x multiplies the moving positions' prices (x = 1 is today).
 * price: x is the price of the single moving position (solving on the price axis keeps roots exact).
 */
export type CurveAxis = 'scale' | 'price';

/**
 * Maintenance requirement as a function of x on an axis (see CurveAxis) for the moving positions.
 * Between consecutive breakpoints the function is affine in `s`, which is what lets the distance
 * solver find the exact move instead of scanning.
 */
export interface MaintenanceCurve {
  at(x: Decimal): Decimal;
  /** Points (> 0) on the axis where the requirement's slope may change. */
  breakpoints: Decimal[];
  /**
   * The requirement as a + b·x on the open segment right of `lo` up to the next breakpoint, for models
   * that can say it without re-pricing the whole book (the solver samples `at` otherwise).
   */
  affineAfter?(lo: Decimal): Affine;
}

export interface Affine {
  a: Decimal;
  b: Decimal;
}

/**
 * Bounds on the book's maintenance requirement when instruments move together, split per instrument:
 * for every joint move, M(p) ≤ M(p₀) + Σᵢ (upperᵢ(pᵢ) − M(p₀)) and M(p) ≥ M(p₀) + Σᵢ (lowerᵢ(pᵢ) − M(p₀)).
 * Each curve is on the price axis of one position (the others at today's prices). For a separable model
 * both are the exact one-position curve; a netting model (portfolio) gives true bounds.
 */
export interface BandCurves {
  upper: MaintenanceCurve;
  lower: MaintenanceCurve;
}

export interface PositionExtras {
  liquidationPrice?: Decimal | null;
  bankruptcyPrice?: Decimal | null;
}

export interface MarginModel<P extends CommonParams = CommonParams> {
  readonly name: ModelName;
  /**
   * spot: positions are owned, equity = cash + Σ qty·price·multiplier.
   * derivative: positions are contracts, cash is collateral, equity = cash + Σ qty·multiplier·(price − avgCost).
   */
  readonly valuation: 'spot' | 'derivative';
  readonly paramsSchema: z.ZodType<P, unknown>;
  /**
   * Model rules that a schema cannot express (e.g. no shorts in cash accounts). Judged from the positions
   * and params alone, so they are named in the same pass as a bad account field.
   */
  validate(book: Pick<Book<P>, 'positions' | 'params'>): FieldIssue[];
  /**
   * Rules for a book submitted whole (`evaluateSubmitted`: the CLI's evaluate) on top of `validate`: checks that
   * would be wrong on a stored book, whose closed positions the pipeline drops before evaluating (a tiered
   * tier table for an instrument not held is a misspelt symbol in a submitted book, but only a closed
   * position in a stored one, which must go on being evaluated).
   */
  validateSubmitted?(book: Pick<Book<P>, 'positions' | 'params'>): FieldIssue[];
  requirements(book: Book<P>): BookRequirements;
  curve(book: Book<P>, moving: readonly number[], axis?: CurveAxis): MaintenanceCurve;
  funds(book: Book<P>, core: CoreFigures): Funds;
  positionExtras?(book: Book<P>, index: number): PositionExtras;
  /** Per-position requirement bounds for guard bands (see BandCurves). */
  bandCurves(book: Book<P>, index: number): BandCurves;
  /** For models that price each position on its own: the rule, which opens the scaled-integer fast path. */
  separable?(book: Book<P>): SeparableForm;
}

/** Parameters every model accepts. */
export interface CommonParams {
  /** Margin call when equity / maintenance falls below this (1 = equity below maintenance). */
  callRatio: Decimal;
}

/**
 * A separable model prices each position on its own (no netting): the book's requirement is a sum
 * (separable.ts builds requirements and solver curves from one such per-position rule).
 */
export interface PositionRule {
  requirement(position: Position, price: Decimal): Requirement;
  /** Prices at which this position's rule changes slope (thresholds, per-share minimums, tiers). */
  priceBreakpoints(position: Position): Decimal[];
  /**
   * Prices at which the initial requirement changes slope. Rules that give it can be compiled into
   * per-piece coefficients for the scaled-integer fast path (fast/compile.ts); rules must then price
   * only from the price they are given, never from position.price.
   */
  initialBreakpoints?(position: Position): Decimal[];
}

/** A separable model's per-position rule and its account-wide requirement (e.g. a cash account's debit). */
export interface SeparableForm {
  rule: PositionRule;
  accountMaintenance: Decimal;
}
