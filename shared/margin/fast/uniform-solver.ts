import { Decimal, ONE } from '../../decimal.ts';
import type { ScaleRoots } from '../distance.ts';
import type { CompiledPosition } from './compile.ts';
import { exactDecision } from './stats.ts';
import {
  OVERFLOW,
  decimalOf,
  lifted,
  minus,
  plus,
  product,
  scaleBy,
  shift,
  type Int,
  type Scaled,
} from './scaled.ts';

const U = Number.EPSILON;

/** One position as the solver moves it: its maintenance tables and today's price. */
export interface Mover {
  compiled: CompiledPosition;
  price: Decimal;
  scaledPrice: Scaled;
  priceFloat: number;
  /** The maintenance piece today's price is on. */
  piece: number;
}

/** Σ piece intercepts (a) and Σ piece slopes · price (b) of a segment, at the book's scale. */
interface Sums {
  a: Int;
  b: Int;
}

interface Piece {
  alpha: Int;
  beta: Int;
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
export class UniformSolver {
  private readonly below: Group[];
  private readonly above: Group[];
  /** Σ piece intercepts (a) and Σ piece slopes · price (b) of each segment walked, memoised across θ. */
  private readonly segmentsDown: Sums[] = [];
  private readonly segmentsUp: Sums[] = [];
  /** The tier the book's sums are in (see bookSums). */
  private readonly float: boolean;

  constructor(
    private readonly movers: Mover[],
    private readonly scale: number,
    private readonly constant: Int,
    private readonly slope: Int,
    private readonly accountMaintenance: Int,
    private readonly maintenance: Int,
  ) {
    this.float = typeof constant === 'number';
    const down: Crossing[] = [];
    const up: Crossing[] = [];
    for (let mover = 0; mover < movers.length; mover++) {
      const m = movers[mover]!;
      const { bpFloat, maintenanceBreak } = m.compiled;
      // Initial-only breakpoints are not crossed: maintenance is one line across them.
      for (let k = 0; k < bpFloat.length; k++)
        if (maintenanceBreak[k])
          (k < m.piece ? down : up).push({ mover, k, float: bpFloat[k]! / m.priceFloat });
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

  private pieceTerms(mover: number, k: number): Sums {
    const m = this.movers[mover]!;
    return {
      a: lifted(m.compiled.maintenanceA[k]!, this.scale, this.float),
      b: product(m.compiled.maintenanceB[k]!, m.scaledPrice, this.scale, this.float),
    };
  }

  private today(): Sums {
    let a = this.accountMaintenance;
    let b: Int = this.float ? 0 : 0n;
    for (let i = 0; i < this.movers.length; i++) {
      const t = this.pieceTerms(i, this.movers[i]!.piece);
      a = plus(a, t.a);
      b = plus(b, t.b);
    }
    return { a, b };
  }

  /** Segment j's sums; segment j + 1 is reached by crossing group j (down: piece k+1 → k; up: k → k+1). */
  private segment(j: number, direction: 'down' | 'up'): Sums {
    const memo = direction === 'down' ? this.segmentsDown : this.segmentsUp;
    const groups = direction === 'down' ? this.below : this.above;
    if (memo.length === 0) memo.push(this.today());
    while (memo.length <= j) {
      let { a, b } = memo[memo.length - 1]!;
      for (const c of groups[memo.length - 1]!.crossings) {
        const [from, to] = direction === 'down' ? [c.k + 1, c.k] : [c.k, c.k + 1];
        const leaving = this.pieceTerms(c.mover, from);
        const entering = this.pieceTerms(c.mover, to);
        a = plus(minus(a, leaving.a), entering.a);
        b = plus(minus(b, leaving.b), entering.b);
      }
      memo.push({ a, b });
    }
    return memo[j]!;
  }

  roots(theta: Scaled): ScaleRoots {
    // gap(1) = equity − θ·maintenance, at scale + θ.s
    if (minus(shift(plus(this.constant, this.slope), theta.s), scaleBy(theta, this.maintenance)) <= 0)
      return { breached: true, origin: ONE, down: ONE, up: ONE };
    const s = this.scale + theta.s;
    let down: Decimal | null = null;
    for (let j = 0; j <= this.below.length; j++) {
      const p = this.piece(j, 'down', theta);
      const hi = this.below[j - 1];
      if (hi ? this.reachedAt(p, hi, s) : plus(p.alpha, p.beta) <= 0) {
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
      if (lo ? this.reachedAt(p, lo, s) : plus(p.alpha, p.beta) <= 0) {
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
      alpha: minus(shift(this.constant, theta.s), scaleBy(theta, a)),
      beta: minus(shift(this.slope, theta.s), scaleBy(theta, b)),
    };
  }

  /** alpha + beta·x ≤ 0 at a breakpoint x: float64 when the error bound decides, else the reference's test. */
  private reachedAt(p: Piece, g: Group, s: number): boolean {
    const alpha = Number(p.alpha);
    const product = Number(p.beta) * g.float;
    const value = alpha + product;
    // alpha and beta round once each to float64, x carries ≤ 3 roundings (breakpoint, price, quotient),
    // and two more follow: 64 units of roundoff is a wide margin over the ≤ 8 they can add up to.
    if (Math.abs(value) > 64 * U * (Math.abs(alpha) + Math.abs(product))) return value <= 0;
    return exactDecision(
      decimalOf(p.alpha, s)
        .plus(decimalOf(p.beta, s).times(this.exactPoint(g)))
        .lessThanOrEqualTo(0),
    );
  }
}
