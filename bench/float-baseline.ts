/**
 * The same Reg T arithmetic as the engine (requirements, equity, ratio, uniform distance to call and
 * per-position call prices, solved the same way), in float64. Benchmark-only: it exists to price what
 * exact decimals cost, and must never be used for money.
 */
export interface FloatPosition {
  quantity: number;
  price: number;
}

function requirement(q: number, price: number): number {
  const value = Math.abs(q) * price;
  if (q >= 0) return value * 0.25;
  if (price >= 5) return Math.max(value * 0.3, Math.abs(q) * 5);
  return Math.max(value, Math.abs(q) * 2.5);
}

function breakpoints(q: number): number[] {
  return q >= 0 ? [] : [5, 5 / 0.3, 2.5];
}

/** Nearest root of cash + slope·x − θ·M(x) around origin, by affine pieces between breakpoints. */
function solve(
  constant: number,
  slope: number,
  at: (x: number) => number,
  bps: number[],
  theta: number,
  origin: number,
): number | null {
  const gap = (x: number) => constant + slope * x - theta * at(x);
  if (gap(origin) <= 0) return origin;
  const down = [origin, ...bps.filter((b) => b > 0 && b < origin).sort((a, b) => b - a), 0];
  let best: number | null = null;
  for (let k = 0; k + 1 < down.length; k++) {
    const hi = down[k]!;
    const lo = down[k + 1]!;
    const x1 = (lo + hi) / 2;
    const x2 = lo + ((hi - lo) * 3) / 4;
    const g1 = gap(x1);
    const dg = gap(x2) - g1;
    const dx = x2 - x1;
    if (g1 * dx + (hi - x1) * dg <= 0) {
      best = hi;
      break;
    }
    if (g1 * dx + (lo - x1) * dg <= 0) {
      best = x1 - (g1 * dx) / dg;
      break;
    }
  }
  const up = [origin, ...bps.filter((b) => b > origin).sort((a, b) => a - b)];
  for (let k = 0; k < up.length; k++) {
    const lo = up[k]!;
    const hi = up[k + 1] ?? lo * 3;
    const x1 = (lo + hi) / 2;
    const x2 = lo + ((hi - lo) * 3) / 4;
    const g1 = gap(x1);
    const dg = gap(x2) - g1;
    const dx = x2 - x1;
    const root =
      g1 * dx + (lo - x1) * dg <= 0
        ? lo
        : (up[k + 1] !== undefined ? g1 * dx + (hi - x1) * dg <= 0 : dg < 0)
          ? x1 - (g1 * dx) / dg
          : null;
    if (root !== null) return best === null || root - origin < origin - best ? root : best;
  }
  return best;
}

export function evaluateFloat(cash: number, positions: FloatPosition[], withPositionPrices: boolean) {
  const values = positions.map((p) => p.quantity * p.price);
  const equity = cash + values.reduce((a, b) => a + b, 0);
  const reqs = positions.map((p) => requirement(p.quantity, p.price));
  const maintenance = reqs.reduce((a, b) => a + b, 0);
  const slope = values.reduce((a, b) => a + b, 0);
  const allBps = positions.flatMap((p) => breakpoints(p.quantity).map((b) => b / p.price));
  const uniformAt = (x: number) =>
    positions.reduce((acc, p) => acc + requirement(p.quantity, p.price * x), 0);
  const call = solve(cash, slope, uniformAt, allBps, 1, 1);
  const zero = solve(cash, slope, uniformAt, allBps, 0, 1);
  const prices = withPositionPrices
    ? positions.map((p, i) => {
        const fixed = maintenance - reqs[i]!;
        const at = (x: number) => fixed + requirement(p.quantity, x);
        const other = equity - values[i]!;
        return [
          solve(other, p.quantity, at, breakpoints(p.quantity), 1, p.price),
          solve(other, p.quantity, at, breakpoints(p.quantity), 0, p.price),
        ];
      })
    : [];
  return { equity, maintenance, ratio: maintenance === 0 ? null : equity / maintenance, call, zero, prices };
}
