import { describe, expect, it } from 'vitest';
import {
  buildBook,
  evaluateBook as evaluateStored,
  evaluateSubmitted,
  fastPathStats,
  parseEvaluationInput,
} from '../../../shared/margin/evaluate.ts';
import { evaluateBook, r, s } from '../../helpers/book.ts';

/**
 * Crypto venue conventions (issue 26), each against a venue's own published worked example, computed by
 * hand in the comments. Where a venue publishes only the formula, the numbers are ours and say so.
 */

/**
 * Binance USDⓈ-M brackets as published with the two-symbol example below (notional cap, maintenance
 * margin rate, maximum leverage, maintenance amount "cum"); every cum is the continuous one, e.g. BTC
 * tier 4: 1,000,000 · (2.5% − 1%) + 1,300 = 16,300.
 */
const BINANCE_BTCUSDT = [
  ['50000', '0.004', '125', '0'],
  ['250000', '0.005', '100', '50'],
  ['1000000', '0.01', '50', '1300'],
  ['5000000', '0.025', '20', '16300'],
  ['20000000', '0.05', '10', '141300'],
  ['50000000', '0.1', '5', '1141300'],
  ['100000000', '0.125', '4', '2391300'],
  ['200000000', '0.15', '3', '4891300'],
  ['300000000', '0.25', '2', '24891300'],
  [null, '0.5', '1', '99891300'],
].map(([upTo, maintenanceRate, maxLeverage, maintenanceAmount]) => ({
  upTo,
  maintenanceRate,
  maxLeverage,
  maintenanceAmount,
}));

const BINANCE_ETHUSDT = [
  ['10000', '0.005', '100', '0'],
  ['100000', '0.0065', '75', '15'],
  ['500000', '0.01', '50', '365'],
  ['1000000', '0.02', '25', '5365'],
  ['2000000', '0.05', '10', '35365'],
  ['5000000', '0.1', '5', '135365'],
  ['10000000', '0.125', '4', '260365'],
  ['20000000', '0.15', '3', '510365'],
  [null, '0.25', '2', '2510365'],
].map(([upTo, maintenanceRate, maxLeverage, maintenanceAmount]) => ({
  upTo,
  maintenanceRate,
  maxLeverage,
  maintenanceAmount,
}));

const oneTier = (maintenanceRate: string) => [{ upTo: null, maintenanceRate, maxLeverage: '125' }];

describe('tiered: per-instrument tier tables (Binance cross account, two symbols)', () => {
  // Source: Binance FAQ "How to Calculate Liquidation Price of USDⓈ-M Futures Contracts"
  // (https://www.binance.com/en/support/faq/b3c689c1f50a44cabb3a84e663b81d93), cross margin, one-way mode:
  // wallet balance 1,535,443.01; BTCUSDT long 109.488 at 32,481.98, ETHUSDT long 3,683.979 at 1,456.84;
  // published liquidation prices 26,316.89 (BTCUSDT) and 1,153.26 (ETHUSDT). The FAQ gives the notionals
  // at mark, 3,500,032.458 and 4,918,775.081; the mark prices here are those over the sizes, to the cent.
  const binance = (params: Record<string, unknown>) =>
    evaluateBook({ model: 'tiered', cash: '1535443.01', params }, [
      { instrument: 'BTCUSDT', quantity: '109.488', avgCost: '32481.98', price: '31967.27', leverage: '5' },
      { instrument: 'ETHUSDT', quantity: '3683.979', avgCost: '1456.84', price: '1335.18', leverage: '5' },
    ]);
  const both = { instrumentTiers: { BTCUSDT: BINANCE_BTCUSDT, ETHUSDT: BINANCE_ETHUSDT } };

  it('each symbol on its own table: the published maintenance margins and liquidation prices', () => {
    const e = binance(both);
    // BTC: 109.488 · 31,967.27 = 3,500,032.45776 (tier 4) · 2.5% − 16,300 = 71,200.811444
    expect(s(e.positions[0]!.maintenanceRequirement)).toBe('71200.811444');
    // ETH: 3,683.979 · 1,335.18 = 4,918,775.08122 (tier 6) · 10% − 135,365 = 356,512.508122
    expect(s(e.positions[1]!.maintenanceRequirement)).toBe('356512.508122');
    // BTC leg, ETH fixed: UPNL(ETH) = 3,683.979 · (1,335.18 − 1,456.84) = −448,192.88514.
    // 1,535,443.01 − 448,192.88514 + 109.488·(p − 32,481.98) = 356,512.508122 + 0.025·109.488·p − 16,300
    // → 106.75080·p = 2,809,377.35 … → p = 26,316.8932… (published 26,316.89; the FAQ's UPNL1 line,
    // −447,482.100, disagrees with its own positions: with it the formula gives 26,310.23).
    expect(r(e.positions[0]!.liquidationPrice, 2)).toBe('26316.89');
    // ETH leg, BTC fixed: UPNL(BTC) = 109.488 · (31,967.27 − 32,481.98) = −56,354.56848.
    // 1,535,443.01 − 56,354.56848 + 3,683.979·(p − 1,456.84) = 71,200.811444 + 0.1·3,683.979·p − 135,365
    // → 3,315.5811·p = 3,823,723.38 … → p = 1,153.2565 (published 1,153.26; still in tier 6 there).
    expect(r(e.positions[1]!.liquidationPrice, 2)).toBe('1153.26');
  });

  it('one table for the whole account gets the ETH leg wrong', () => {
    const e = binance({ tiers: BINANCE_BTCUSDT });
    // ETH's 4.9M notional on BTC's table is tier 4 (2.5% − 16,300), not ETH's tier 6 (10% − 135,365).
    expect(s(e.positions[1]!.maintenanceRequirement)).toBe('106669.3770305');
    expect(r(e.positions[1]!.liquidationPrice, 2)).not.toBe('1153.26');
  });

  it("the tier maximum leverage follows the symbol's own table", () => {
    // ETH's 4.9M is in its tier 6 (max 5x); on BTC's table it would be tier 4 (max 20x).
    expect(() =>
      evaluateBook({ model: 'tiered', cash: '1535443.01', params: both }, [
        {
          instrument: 'BTCUSDT',
          quantity: '109.488',
          avgCost: '32481.98',
          price: '31967.27',
          leverage: '20',
        },
        { instrument: 'ETHUSDT', quantity: '3683.979', avgCost: '1456.84', price: '1335.18', leverage: '10' },
      ]),
    ).toThrow(/positions\[1\]\.leverage: 10x exceeds the 5x maximum for ETHUSDT's notional tier/);
  });
});

describe('tiered: published maintenance amounts', () => {
  it('uses a published amount exactly (Binance: 500,000 BTCUSDT → 1% and 1,300)', () => {
    // Same FAQ: "if the position size of a USDⓈ-M BTCUSDT contract is 500,000 USDT, then the maintenance
    // amount would be 1,300 USDT" (and the rate 1%): 500,000 · 1% − 1,300 = 3,700.
    const e = evaluateBook({ model: 'tiered', cash: '100000', params: { tiers: BINANCE_BTCUSDT } }, [
      { instrument: 'BTCUSDT', quantity: '10', avgCost: '50000', price: '50000', leverage: '10' },
    ]);
    expect(s(e.maintenanceRequirement)).toBe('3700');
  });

  it('refuses a table whose amounts make the requirement jump, naming the tier', () => {
    const bad = BINANCE_BTCUSDT.map((t, i) => (i === 2 ? { ...t, maintenanceAmount: '1250' } : t));
    // At 250,000: tier 2 gives 250,000 · 0.5% − 50 = 1,200, tier 3 would give 250,000 · 1% − 1,250 = 1,250.
    expect(() =>
      evaluateBook({ model: 'tiered', cash: '1', params: { instrumentTiers: { BTCUSDT: bad } } }, [
        { instrument: 'BTCUSDT', quantity: '1', avgCost: '1', price: '1', leverage: '1' },
      ]),
    ).toThrow(
      'account.params.instrumentTiers.BTCUSDT[2].maintenanceAmount: discontinuous tier table: at notional 250000 the requirement would jump from 1200 to 1250 (a continuous table has 1300 here)',
    );
  });

  it('refuses a first tier with an amount (an empty position requires nothing)', () => {
    const bad = BINANCE_BTCUSDT.map((t, i) => (i === 0 ? { ...t, maintenanceAmount: '5' } : t));
    expect(() => evaluateBook({ model: 'tiered', cash: '1', params: { tiers: bad } }, [])).toThrow(
      /account\.params\.tiers\[0\]\.maintenanceAmount: discontinuous tier table: the first tier's amount must be 0/,
    );
  });

  it('a later amount follows the published one before it', () => {
    // Tier 3 given, tier 4 derived from it: 1,000,000 · 1.5% + 1,300 = 16,300; 2,000,000 · 2.5% − 16,300.
    const table = BINANCE_BTCUSDT.map((t, i) => (i === 3 ? { ...t, maintenanceAmount: undefined } : t));
    const e = evaluateBook({ model: 'tiered', cash: '1000000', params: { tiers: table } }, [
      { instrument: 'BTCUSDT', quantity: '40', avgCost: '50000', price: '50000', leverage: '10' },
    ]);
    expect(s(e.maintenanceRequirement)).toBe('33700');
  });
});

describe('tiered: maintenanceBasis "entry" (Bybit, KuCoin)', () => {
  it('Bybit isolated long: 1 BTC at 20,000, 50x, MMR 0.5% → liquidation 19,700', () => {
    // Source: Bybit Help Center, "Liquidation Price (USDT Contract)", Example 1 (Long):
    // IM = 1 · 20,000 / 50 = 400; MM = 1 · 20,000 · 0.5% − 0 = 100; LP = 20,000 − (400 − 100) = 19,700.
    const btc = { instrument: 'BTCUSDT', quantity: '1', avgCost: '20000', price: '20000', leverage: '50' };
    const at = (maintenanceBasis: string, price = '20000') =>
      evaluateBook(
        {
          model: 'tiered',
          cash: '0',
          params: { mode: 'isolated', tiers: oneTier('0.005'), maintenanceBasis },
        },
        [{ ...btc, price }],
      );
    const entry = at('entry');
    expect(s(entry.positions[0]!.liquidationPrice)).toBe('19700');
    expect(s(entry.positions[0]!.bankruptcyPrice)).toBe('19600'); // 400 + (p − 20,000) = 0
    // Mark basis (Binance): 400 + p − 20,000 = 0.005p → p = 19,600 / 0.995 = 19,698.49…
    expect(r(at('mark').positions[0]!.liquidationPrice, 2)).toBe('19698.49');
    // The entry-basis requirement does not move with the price: 100 at 19,800 (mark basis: 99).
    expect(s(at('entry', '19800').maintenanceRequirement)).toBe('100');
    expect(s(at('mark', '19800').maintenanceRequirement)).toBe('99');
  });

  it('KuCoin isolated short: 5 contracts of 0.001 BTC at 28,000, 100x, MMR 0.4% → 28,168', () => {
    // Source: KuCoin Help Center, "How to Calculate the Liquidation Price for KuCoin Contracts"
    // (https://www.kucoin.com/support/4408061803033): IM = 5 · 28,000 · 0.001 / 100 = 1.4,
    // MM = 5 · 28,000 · 0.001 · 0.4% = 0.56, LP = (28,000 · 5 · 0.001 + 1.4 − 0.56) / (5 · 0.001) = 28,168.
    const short = (maintenanceBasis: string) =>
      evaluateBook(
        {
          model: 'tiered',
          cash: '0',
          params: { mode: 'isolated', tiers: oneTier('0.004'), maintenanceBasis },
        },
        [
          {
            instrument: 'XBTUSDTM',
            quantity: '-5',
            multiplier: '0.001',
            avgCost: '28000',
            price: '28000',
            leverage: '100',
          },
        ],
      );
    const entry = short('entry');
    expect(s(entry.positions[0]!.liquidationPrice)).toBe('28168');
    // KuCoin's bankruptcy price for a short (same help centre, "How to Calculate the Bankruptcy Price"):
    // entry · (1 + 1/leverage) = 28,000 · 1.01 = 28,280.
    expect(s(entry.positions[0]!.bankruptcyPrice)).toBe('28280');
    // Mark basis: 1.4 + 0.005·(28,000 − p) = 0.00002p → p = 141.4 / 0.00502 = 28,167.33…
    expect(r(short('mark').positions[0]!.liquidationPrice, 2)).toBe('28167.33');
  });

  it('moves the call price and the distance to call with it (cross)', () => {
    // Cross, wallet 400: 400 + p − 20,000 = 100 → call at 19,700, a fall of exactly 1.5%.
    const e = evaluateBook(
      { model: 'tiered', cash: '400', params: { tiers: oneTier('0.005'), maintenanceBasis: 'entry' } },
      [{ instrument: 'BTCUSDT', quantity: '1', avgCost: '20000', price: '20000', leverage: '50' }],
    );
    expect(s(e.positions[0]!.callPrice)).toBe('19700');
    expect(s(e.distanceToCall.call.fall)).toBe('0.015');
    expect(s(e.distanceToCall.zeroEquity.fall)).toBe('0.02');
  });

  it('takes the tier from the entry notional', () => {
    // 1 BTC bought at 60,000 (tier 2 of Binance's table, 0.5% − 50 = 250) now marked at 40,000 (tier 1).
    const e = evaluateBook(
      { model: 'tiered', cash: '30000', params: { tiers: BINANCE_BTCUSDT, maintenanceBasis: 'entry' } },
      [{ instrument: 'BTCUSDT', quantity: '1', avgCost: '60000', price: '40000', leverage: '10' }],
    );
    expect(s(e.maintenanceRequirement)).toBe('250');
    expect(s(e.initialRequirement)).toBe('4000'); // initial stays notional at mark / leverage
  });
});

describe('tiered: closingFeeRate in liquidation and bankruptcy prices', () => {
  // Source: Bybit Help Center, "Order Cost (USDT Contract)": fee to close (buy) = qty · price · (1 − 1/lev)
  // · taker fee, i.e. at the bankruptcy price; its example: 1 BTC long at 50,000, 10x, taker 0.055% →
  // IM 5,000, fee to close 1 · 50,000 · 0.9 · 0.00055 = 24.75. The position margin holds both.
  const bybit = (quantity: string, margin: string, closingFeeRate: string) =>
    evaluateBook(
      {
        model: 'tiered',
        cash: '0',
        params: { mode: 'isolated', tiers: oneTier('0.005'), maintenanceBasis: 'entry', closingFeeRate },
      },
      [
        {
          instrument: 'BTCUSDT',
          quantity,
          avgCost: '50000',
          price: '50000',
          leverage: '10',
          isolatedMargin: margin,
        },
      ],
    );

  it('long: the reserved fee to close is used up exactly at the bankruptcy price', () => {
    const e = bybit('1', '5024.75', '0.00055');
    // 5,024.75 + (p − 50,000) = 0.00055·p → 0.99945·p = 44,975.25 → p = 45,000 = 50,000 · (1 − 1/10),
    // Bybit's bankruptcy price, where the fee to close is 45,000 · 0.00055 = 24.75.
    expect(s(e.positions[0]!.bankruptcyPrice)).toBe('45000');
    // Liquidation: 5,024.75 + p − 50,000 = 250 + 0.00055·p → p = 45,225.25 / 0.99945 = 45,250.1375…
    expect(r(e.positions[0]!.liquidationPrice, 4)).toBe('45250.1376');
    // Without the fee the same margin goes bankrupt at 44,975.25.
    expect(s(bybit('1', '5024.75', '0').positions[0]!.bankruptcyPrice)).toBe('44975.25');
  });

  it('short: fee to close at 50,000 · (1 + 1/10) · 0.00055 = 30.25, bankruptcy 55,000', () => {
    const e = bybit('-1', '5030.25', '0.00055');
    // 5,030.25 − (p − 50,000) = 0.00055·p → 1.00055·p = 55,030.25 → p = 55,000.
    expect(s(e.positions[0]!.bankruptcyPrice)).toBe('55000');
    // 5,030.25 − (p − 50,000) = 250 + 0.00055·p → p = 54,780.25 / 1.00055 = 54,750.1374…
    expect(r(e.positions[0]!.liquidationPrice, 4)).toBe('54750.1374');
  });

  it("changes only the venue's prices, not the requirement, ratio or call", () => {
    const [withFee, without] = [bybit('1', '5024.75', '0.00055'), bybit('1', '5024.75', '0')];
    for (const key of ['equity', 'maintenanceRequirement', 'marginRatio'] as const)
      expect(s(withFee[key])).toBe(s(without[key]));
    expect(s(withFee.positions[0]!.callPrice)).toBe(s(without.positions[0]!.callPrice));
  });
});

describe('tiered: bad combinations are refused by name', () => {
  const btc = { instrument: 'BTCUSDT', quantity: '1', avgCost: '20000', price: '20000', leverage: '10' };

  it('a tier table for an instrument the account does not hold (a submitted book)', () => {
    const raw = {
      account: {
        id: 'T1',
        model: 'tiered',
        cash: '1000',
        params: { instrumentTiers: { BTCUSD: oneTier('0.01') } },
      },
      positions: [btc],
    };
    expect(() => evaluateSubmitted(raw)).toThrow(
      /account\.params\.instrumentTiers\.BTCUSD: tier table for an instrument not held: the account holds no BTCUSD position/,
    );
  });

  it('…but a stored book whose symbol was closed goes on being evaluated', () => {
    // The pipeline drops closed positions before evaluating (shared/pipeline/assess.ts: parse, buildBook,
    // evaluateBook), as local mode's chart does (evaluate()); the closed symbol's table is unused, not an
    // error that would stop the account's watch.
    const raw = {
      account: {
        id: 'S',
        model: 'tiered',
        cash: '1000',
        params: { instrumentTiers: { ETHUSDT: oneTier('0.01') } },
      },
      positions: [btc],
    };
    const { model, book } = buildBook(parseEvaluationInput(raw));
    expect(s(evaluateStored(model, book).maintenanceRequirement)).toBe('80'); // 20,000 · 0.4% (default tier 1)
    expect(s(evaluateBook(raw.account, raw.positions).maintenanceRequirement)).toBe('80');
  });

  it('a closing fee of 100% or more, an unknown basis, a bad table inside instrumentTiers', () => {
    const run = (params: Record<string, unknown>) => () =>
      evaluateBook({ model: 'tiered', cash: '1000', params }, [btc]);
    expect(run({ closingFeeRate: '1' })).toThrow(
      /account\.params\.closingFeeRate: must be a fraction at least 0 and below 1/,
    );
    expect(run({ maintenanceBasis: 'market' })).toThrow(/account\.params\.maintenanceBasis/);
    expect(
      run({ instrumentTiers: { BTCUSDT: [{ upTo: '10', maintenanceRate: '0.1', maxLeverage: '5' }] } }),
    ).toThrow(/account\.params\.instrumentTiers\.BTCUSDT\[0\]\.upTo: the last tier must be open-ended/);
  });
});

describe('tiered: the fast path takes the new fields', () => {
  it('entry basis and per-instrument tables: a summary on the fast path, same as the full evaluation', () => {
    const account = {
      model: 'tiered',
      cash: '1535443.01',
      params: {
        maintenanceBasis: 'entry',
        closingFeeRate: '0.0005',
        instrumentTiers: { BTCUSDT: BINANCE_BTCUSDT, ETHUSDT: BINANCE_ETHUSDT },
      },
    };
    const positions = [
      { instrument: 'BTCUSDT', quantity: '109.488', avgCost: '32481.98', price: '31967.27', leverage: '5' },
      { instrument: 'ETHUSDT', quantity: '3683.979', avgCost: '1456.84', price: '1335.18', leverage: '5' },
    ];
    const before = fastPathStats.fast;
    const summary = evaluateBook(account, positions, { positionPrices: false });
    expect(fastPathStats.fast).toBe(before + 1);
    const full = evaluateBook(account, positions);
    for (const key of ['equity', 'maintenanceRequirement', 'initialRequirement', 'marginRatio'] as const)
      expect(s(summary[key])).toBe(s(full[key]));
    expect(s(summary.distanceToCall.call.fall)).toBe(s(full.distanceToCall.call.fall));
    // Entry basis: BTC 3,556,387.02624 · 2.5% − 16,300; ETH 5,366,967.96636 (tier 7) · 12.5% − 260,365.
    expect(s(full.positions[0]!.maintenanceRequirement)).toBe('72609.675656');
    expect(s(full.positions[1]!.maintenanceRequirement)).toBe('410505.995795');
  });
});

describe('tiered: compiled tables are per instrument', () => {
  it('two positions alike but for the instrument get their own tables on the fast path', () => {
    // Same quantity, entry, leverage: the compiled-table cache must not share them across instruments.
    // 2 · 2,000 = 4,000 notional: BTC tier 1 (0.4%) = 16; ETH tier 1 (0.5%) = 20.
    const account = {
      model: 'tiered',
      cash: '10000',
      params: { instrumentTiers: { BTCUSDT: BINANCE_BTCUSDT, ETHUSDT: BINANCE_ETHUSDT } },
    };
    const leg = (instrument: string) => ({
      instrument,
      quantity: '2',
      avgCost: '2000',
      price: '2000',
      leverage: '10',
    });
    const summary = evaluateBook(account, [leg('BTCUSDT'), leg('ETHUSDT')], { positionPrices: false });
    expect(s(summary.maintenanceRequirement)).toBe('36');
    const swapped = evaluateBook(account, [leg('ETHUSDT'), leg('BTCUSDT')], { positionPrices: false });
    expect(s(swapped.positions[0]!.maintenanceRequirement)).toBe('20');
  });
});
