import fc from 'fast-check';
import { unitsToString } from './arbitraries.ts';

/**
 * Random books for guard-band properties: every model, 1–30 positions, long and short, leveraged and
 * inverse ETFs, low-priced shorts around the Reg T $5 rule, notional tiers that positions cross (with
 * published maintenance amounts, a per-instrument table, the entry basis and a closing fee), portfolio books across asset classes with default or custom scenarios, custom thresholds and the
 * account-size adjustment.
 */
export const BAND_MODELS = ['gross', 'reg-t', 'cash', 'tiered', 'portfolio'] as const;
export type BandModel = (typeof BAND_MODELS)[number];

export interface RawBook {
  account: Record<string, unknown>;
  positions: Record<string, unknown>[];
}

const SMALL_TIERS = [
  { upTo: '5000', maintenanceRate: '0.01', maxLeverage: '100' },
  { upTo: '20000', maintenanceRate: '0.025', maxLeverage: '40' },
  { upTo: '100000', maintenanceRate: '0.05', maxLeverage: '20' },
  { upTo: null, maintenanceRate: '0.1', maxLeverage: '10' },
];

/** The same table with the venue's deductions published: 5000·0.015 = 75; 75 + 20000·0.025 = 575. */
const SMALL_TIERS_PUBLISHED = SMALL_TIERS.map((t, i) => ({
  ...t,
  maintenanceAmount: ['0', '75', '575', '5575'][i]!,
}));

/** I0's own table (per-instrument tables): other bounds and rates. */
const I0_TIERS = [
  { upTo: '2000', maintenanceRate: '0.02', maxLeverage: '50' },
  { upTo: '50000', maintenanceRate: '0.04', maxLeverage: '20', maintenanceAmount: '40' },
  { upTo: null, maintenanceRate: '0.12', maxLeverage: '5', maintenanceAmount: '4040' },
];

/** Prices from 0.50 to 1,000, in cents; low prices are common so the $5 rule is crossed. */
const priceCents = fc.oneof(fc.integer({ min: 50, max: 1_500 }), fc.integer({ min: 1_500, max: 100_000 }));

function positionArb(model: BandModel, index: number) {
  const shorts = model !== 'cash';
  return fc
    .record({
      quantity: fc.integer({ min: shorts ? -500 : 1, max: 500 }).filter((q) => q !== 0),
      priceCents,
      costFactor: fc.integer({ min: 50, max: 150 }),
      leverageFactor: fc.constantFrom('1', '1', '1', '2', '3', '-1', '-2'),
      houseRate: fc.option(fc.constantFrom('0.3', '0.4', '0.5'), { freq: 5 }),
      // House rates that cross the small tiers' rates (1%, 2.5%, 5%, 10%).
      tierHouseRate: fc.option(fc.constantFrom('0.02', '0.03', '0.06'), { freq: 4 }),
      assetClass: fc.constantFrom('equity', 'crypto', 'future'),
    })
    .map((p) => {
      const costCents = (BigInt(p.priceCents) * BigInt(p.costFactor)) / 100n;
      const out: Record<string, unknown> = {
        instrument: `I${index}`,
        quantity: String(p.quantity),
        price: unitsToString(BigInt(p.priceCents), 2),
        avgCost: unitsToString(costCents > 0n ? costCents : 1n, 2),
        grossCents: BigInt(Math.abs(p.quantity)) * BigInt(p.priceCents),
      };
      if (model === 'reg-t' || model === 'portfolio') out.leverageFactor = p.leverageFactor;
      if (model === 'reg-t' && p.houseRate) out.maintenanceRate = p.houseRate;
      if (model === 'portfolio') out.assetClass = p.assetClass;
      if (model === 'tiered') out.leverage = '1';
      if (model === 'tiered' && p.tierHouseRate) out.maintenanceRate = p.tierHouseRate;
      return out;
    });
}

const thresholds = fc.option(
  fc.constantFrom(
    { warning: '2.0', critical: '1.5', liquidation: '1.2', hysteresis: '0.05' },
    { warning: '3', critical: '2', liquidation: '1.1', hysteresis: '0.2' },
    { warning: '1.6', critical: '1.3', liquidation: '1.05', hysteresis: '0' },
  ),
  { freq: 2 },
);

export function bookArb(model: BandModel, maxPositions = 30): fc.Arbitrary<RawBook> {
  return fc.integer({ min: 1, max: maxPositions }).chain((n) =>
    fc
      .record({
        positions: fc.tuple(...Array.from({ length: n }, (_, i) => positionArb(model, i))),
        // Cash relative to the book's gross value keeps ratios spread over every level.
        cashFactor: fc.integer({ min: -95, max: 60 }),
        thresholds,
        riskContext: fc.option(
          fc.record({
            strategyRisk: fc.constantFrom('low', 'medium', 'high'),
            volatilityRegime: fc.constantFrom('calm', 'normal', 'stressed', 'crisis'),
          }),
          { freq: 4 },
        ),
        callRatio: fc.constantFrom('1', '1', '1.1'),
        mode: fc.constantFrom('cross', 'isolated'),
        customScenarios: fc.boolean(),
        // Tiered venue conventions: published maintenance amounts, I0 on its own table, the entry basis
        // (a requirement fixed while held), a closing fee (only in the venue's prices: must change nothing).
        venue: fc.record({
          published: fc.boolean(),
          ownTable: fc.boolean(),
          basis: fc.constantFrom(undefined, 'mark', 'entry'),
          fee: fc.boolean(),
        }),
      })
      .map((b) => {
        const grossCents = b.positions.reduce((s, p) => s + (p.grossCents as bigint), 0n);
        let cashCents = (grossCents * BigInt(b.cashFactor)) / 100n;
        if (model === 'tiered') cashCents = (cashCents < 0n ? -cashCents : cashCents) / 3n + 10_000n; // a wallet
        const params: Record<string, unknown> = { callRatio: b.callRatio };
        if (model === 'tiered')
          Object.assign(params, {
            tiers: b.venue.published ? SMALL_TIERS_PUBLISHED : SMALL_TIERS,
            mode: b.mode,
            ...(b.venue.ownTable ? { instrumentTiers: { I0: I0_TIERS } } : {}),
            ...(b.venue.basis ? { maintenanceBasis: b.venue.basis } : {}),
            ...(b.venue.fee ? { closingFeeRate: '0.00055' } : {}),
          });
        if (model === 'portfolio' && b.customScenarios)
          params.scenarios = [
            { name: 'crash', shocks: { equity: '-0.2', crypto: '-0.5', future: '-0.25' } },
            { name: 'squeeze', shocks: { equity: '0.1', crypto: '0.3', I0: '0.5' } },
          ];
        return {
          account: {
            id: 'P',
            model,
            cash: unitsToString(cashCents, 2),
            params,
            ...(b.thresholds ? { thresholds: b.thresholds } : {}),
            ...(b.riskContext ? { riskContext: b.riskContext } : {}),
          },
          positions: b.positions.map(({ grossCents: _, ...p }) => p),
        };
      }),
  );
}
