/**
 * A broker's book for the benches, deterministic from a seed: SPY, QQQ and AAPL held by most accounts,
 * a Zipf tail over the other instruments, ~20 positions an account (a few short), 80% Reg T, 10% gross,
 * 10% tiered (5x); loans spread so most accounts are comfortable and a few percent near their limits.
 * The same idea as the capacity model's population (bench/capacity/model.ts), kept apart so the two can
 * change independently. Plain data only (account, position and price items as the tables hold them),
 * so it runs against any commit's in-memory adapters.
 */
import { Decimal } from '../shared/decimal.ts';
import { prng } from './prng.ts';

export interface PopulationOptions {
  accounts: number;
  /** Distinct instruments, the three heads included. */
  instruments: number;
  positionsPerAccount: number;
  seed: number;
}

export const DEFAULT_POPULATION: PopulationOptions = {
  accounts: 2_000,
  instruments: 500,
  positionsPerAccount: 20,
  seed: 20200312,
};

export const MODEL_MIX = { 'reg-t': 0.8, gross: 0.1, tiered: 0.1 } as const;
const HEADS = ['SPY', 'QQQ', 'AAPL'] as const;
const HEAD_SHARE = { SPY: 0.85, QQQ: 0.6, AAPL: 0.5 } as const;

export interface PopulationItems {
  accounts: { accountId: string; model: string; cash: string }[];
  positions: Map<
    string,
    { accountId: string; instrument: string; quantity: string; avgCost: string; leverage?: string }[]
  >;
  /** Instrument → price (decimal string). */
  prices: Map<string, string>;
  instruments: string[];
}

export function population(options: Partial<PopulationOptions> = {}): PopulationItems {
  const o = { ...DEFAULT_POPULATION, ...options };
  const random = prng(o.seed);
  const instruments = [...HEADS, ...Array.from({ length: o.instruments - HEADS.length }, (_, i) => `T${i}`)];
  const prices = new Map<string, string>();
  instruments.forEach((i, n) =>
    prices.set(i, i === 'SPY' ? '249.46' : (20 + ((n * 37) % 480) + ((n * 13) % 100) / 100).toFixed(2)),
  );
  const tail = instruments.slice(HEADS.length);
  const weights = tail.map((_, k) => 1 / (k + 1));
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const pickTail = () => {
    let u = random() * totalWeight;
    for (let k = 0; k < tail.length; k++) if ((u -= weights[k]!) <= 0) return tail[k]!;
    return tail[tail.length - 1]!;
  };
  const accounts: PopulationItems['accounts'] = [];
  const positions: PopulationItems['positions'] = new Map();
  for (let n = 0; n < o.accounts; n++) {
    const accountId = `ACC${String(n).padStart(7, '0')}`;
    const held = new Set<string>(HEADS.filter((h) => random() < HEAD_SHARE[h]));
    while (held.size < Math.min(o.positionsPerAccount, instruments.length)) held.add(pickTail());
    const u0 = random();
    const model =
      u0 < MODEL_MIX['reg-t'] ? 'reg-t' : u0 < MODEL_MIX['reg-t'] + MODEL_MIX.gross ? 'gross' : 'tiered';
    const book = [...held].map((instrument) => {
      const short = random() < 0.1;
      const size = Math.max(1, Math.round(10 ** (1 + random() * 2)));
      return {
        accountId,
        instrument,
        quantity: String(short ? -size : size),
        avgCost: prices.get(instrument)!,
        ...(model === 'tiered' ? { leverage: '5' } : {}),
      };
    });
    const valueOf = (side: 1 | -1) =>
      book
        .filter((p) => Math.sign(Number(p.quantity)) === side) // the sign of an integer string
        .reduce(
          (v, p) => v.plus(new Decimal(p.quantity).abs().times(prices.get(p.instrument)!)),
          new Decimal(0),
        );
    const longs = valueOf(1);
    const shorts = valueOf(-1);
    // Loan to value of the longs: most accounts borrow little, a tail close to the limits (a ratio near
    // 1.2–2); a short's proceeds sit in cash.
    const u = random();
    const borrowed = u < 0.8 ? random() * 0.4 : u < 0.95 ? 0.5 + random() * 0.15 : 0.65 + random() * 0.1;
    const cash =
      model === 'tiered'
        ? longs
            .plus(shorts)
            .times(0.2 + random() * 0.3)
            .toDecimalPlaces(2)
        : shorts.minus(longs.times(borrowed)).toDecimalPlaces(2);
    accounts.push({ accountId, model, cash: cash.toFixed() });
    positions.set(accountId, book);
  }
  return { accounts, positions, prices, instruments };
}
