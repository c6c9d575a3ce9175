import { describe, expect, it } from 'vitest';
import { evaluateBook, s } from '../../../helpers/book.ts';
import { InputError } from '../../../../shared/errors.ts';

/**
 * Strategy-based Reg T / FINRA 4210(f)(2) requirements, worked by hand. Requirements here are on the
 * net-liquidation basis (equity counts a short option as a liability): the manual's figure less the short
 * options' value plus the long options' (shared/margin/options/strategies.ts). That is exactly the
 * "proceeds applied" figure printed in the first source below.
 *
 * Sources:
 * [CBOE-PM] Cboe, "Margin Requirement Examples for Sample Options-based Positions" (strategy-based vs
 *   portfolio margin; IBM at $97.73, 100-contract positions; mirrored at studylib.net/doc/11615061). Its
 *   strategy-based column is the Reg T initial requirement with option proceeds applied.
 * [TASTY] tastytrade help centre, "Short straddle/strangle" and "Short butterfly" margin examples.
 * [EDELTA] edeltapro knowledge base, "Margin": short put example.
 * [CBOE-MM] Cboe Margin Manual (April 2000): the rule for each strategy (long options paid in full,
 *   uncovered 20%/15% less OTM with the 10% minimums, spreads at the strike difference, protective puts
 *   at the lesser of 10% of the strike plus OTM or the stock's 25%).
 */

const IBM = '97.73';
const ASOF = '2026-03-02';

function opt(
  instrument: string,
  quantity: string,
  price: string,
  right: 'call' | 'put',
  strike: string,
  extra: Record<string, string> = {},
) {
  return {
    instrument,
    quantity,
    price,
    instrumentType: 'option',
    underlying: 'IBM',
    right,
    strike,
    expiry: '2026-04-17',
    underlyingClass: 'equity',
    ...extra,
  };
}
const priced = { underlyingPrice: IBM };
const stock = (quantity: string, price = IBM) => ({ instrument: 'IBM', quantity, price });

function book(positions: Record<string, unknown>[], cash = '1000000') {
  return evaluateBook({ model: 'reg-t', cash, asOf: ASOF }, positions as never, { positionPrices: false });
}
function groups(e: ReturnType<typeof book>) {
  return JSON.parse(e.details.optionStrategies as string) as { strategy: string; maintenance: string }[];
}

describe('Reg T strategy-based option requirements: worked examples', () => {
  it('short uncovered call [CBOE-PM]: 20% of the underlying less OTM', () => {
    // 100 × 100 × (0.20 × 97.73 − (100 − 97.73)) = 10,000 × (19.546 − 2.27) = 172,760 (printed: $172,760).
    // The 10% minimum, 10,000 × 9.773 = 97,730, does not bind.
    const e = book([opt('IBM C100', '-100', '1.68', 'call', '100', priced)]);
    expect(s(e.initialRequirement)).toBe('172760');
    expect(s(e.maintenanceRequirement)).toBe('172760');
    expect(groups(e).map((g) => g.strategy)).toEqual(['naked-call']);
  });

  it('short uncovered put [CBOE-PM]: in the money, nothing subtracted', () => {
    // 10,000 × 0.20 × 97.73 = 195,460 (printed: $195,460); minimum 10% × 100 × 10,000 = 100,000.
    const e = book([opt('IBM P100', '-100', '3.18', 'put', '100', priced)]);
    expect(s(e.maintenanceRequirement)).toBe('195460');
  });

  it('short put [EDELTA]: the 20% rule against the 10%-of-strike minimum', () => {
    // Short 1 200 put at 1.20, stock 209: manual figure 120 + 0.20 × 20,900 − 900 = 3,400 (printed: $3,400;
    // proceeds 120 applied → 3,280). Minimum 120 + 10% × 20,000 = 2,120. Net basis: 3,280.
    const e = book([
      { ...opt('XYZ P200', '-1', '1.20', 'put', '200'), underlying: 'XYZ', underlyingPrice: '209' },
    ]);
    expect(s(e.maintenanceRequirement)).toBe('3280');
  });

  it('the 10% minimums bind far out of the money', () => {
    // Call K 150, U 100, V 0.05: 20 − 50 < 0 → max(−30, 10% × 100 = 10) = 10 a share → 1,000.
    // Put K 50, U 100: 20 − 50 < 0 → 10% × 50 = 5 a share → 500.
    const e = book([
      { ...opt('Z C150', '-1', '0.05', 'call', '150'), underlying: 'Z', underlyingPrice: '100' },
      { ...opt('Z P50', '-1', '0.05', 'put', '50'), underlying: 'Z', underlyingPrice: '100' },
    ]);
    // Alone 1,000 + 500; as a strangle max(1,000, 500) = 1,000.
    expect(s(e.maintenanceRequirement)).toBe('1000');
    expect(groups(e).map((g) => g.strategy)).toEqual(['short-straddle']);
  });

  it('broad-based index: 15% of the index', () => {
    // SPX 4,000 call K 4,100 at 20: 0.15 × 4,000 − 100 = 500 vs 10% × 4,000 = 400 → 500 × 100 = 50,000.
    const e = book([
      {
        ...opt('SPX C4100', '-1', '20', 'call', '4100'),
        underlying: 'SPX',
        underlyingClass: 'broad-index',
        underlyingPrice: '4000',
      },
    ]);
    expect(s(e.maintenanceRequirement)).toBe('50000');
  });

  it('leveraged ETF: the percentages times |factor|', () => {
    // 3x ETF at 50, short put K 45: 60% × 50 − 5 = 25 vs 30% × 45 = 13.5 → 25 × 100 = 2,500.
    const e = book([
      {
        ...opt('TQ P45', '-1', '1', 'put', '45'),
        underlying: 'TQ',
        underlyingClass: 'leveraged-etf',
        leverageFactor: '3',
        underlyingPrice: '50',
      },
    ]);
    expect(s(e.maintenanceRequirement)).toBe('2500');
  });

  it('covered call [CBOE-PM]: 50% of the stock less the call proceeds', () => {
    // Initial 50% × 977,300 − 16,800 = 471,850 (printed: $471,850).
    // Maintenance: 25% × 977,300 − 16,800 = 227,525 (the call is out of the money: nothing added).
    const e = book([stock('10000'), opt('IBM C100', '-100', '1.68', 'call', '100')]);
    expect(s(e.initialRequirement)).toBe('471850');
    expect(s(e.maintenanceRequirement)).toBe('227525');
    expect(groups(e).map((g) => g.strategy)).toEqual(['covered-call']);
  });

  it('covered call in the money: the ITM amount is not lent against', () => {
    // 100 shares at 110, short 100 call at 12: 25% × 11,000 + 100 × 10 − 1,200 = 2,550.
    const e = book([
      { instrument: 'Q', quantity: '100', price: '110' },
      { ...opt('Q C100', '-1', '12', 'call', '100'), underlying: 'Q' },
    ]);
    expect(s(e.maintenanceRequirement)).toBe('2550');
  });

  it('protective put [CBOE-PM]: 50% of the stock plus the put; maintenance the lesser rule', () => {
    // Initial 488,650 + 10,200 = 498,850 (printed: $498,850).
    // Maintenance: min(10% × 95 + (97.73 − 95), 25% × 97.73) = min(12.23, 24.4325) → 122,300 + 10,200 = 132,500.
    const e = book([stock('10000'), opt('IBM P95', '100', '1.02', 'put', '95')]);
    expect(s(e.initialRequirement)).toBe('498850');
    expect(s(e.maintenanceRequirement)).toBe('132500');
  });

  it('collar [CBOE-PM]: stock, long put, short call', () => {
    // Initial 488,650 + 10,200 − 4,000 = 494,850 (printed: $494,850).
    // Maintenance 122,300 + 10,200 − 4,000 = 128,500.
    const e = book([
      stock('10000'),
      opt('IBM P95', '100', '1.02', 'put', '95'),
      opt('IBM C105', '-100', '.40', 'call', '105'),
    ]);
    expect(s(e.initialRequirement)).toBe('494850');
    expect(s(e.maintenanceRequirement)).toBe('128500');
    expect(groups(e).map((g) => g.strategy)).toEqual(['collar']);
  });

  it('synthetic long and risk reversal [CBOE-PM]: no strategy, each leg alone', () => {
    // Synthetic long: 16,800 (call paid) + 195,460 (naked put) = 212,260 (printed: $212,260).
    expect(
      s(
        book([
          opt('IBM C100', '100', '1.68', 'call', '100', priced),
          opt('IBM P100', '-100', '3.18', 'put', '100', priced),
        ]).initialRequirement,
      ),
    ).toBe('212260');
    // Risk reversal: 10,200 + 10,000 × (19.546 − 7.27) = 10,200 + 122,760 = 132,960 (printed: $132,960).
    expect(
      s(
        book([
          opt('IBM P95', '100', '1.02', 'put', '95', priced),
          opt('IBM C105', '-100', '.40', 'call', '105', priced),
        ]).initialRequirement,
      ),
    ).toBe('132960');
  });

  it('long vertical call spread [CBOE-PM]: the net debit', () => {
    // 45,300 − 4,000 = 41,300 (printed: $41,300).
    const e = book([
      opt('IBM C95', '100', '4.53', 'call', '95', priced),
      opt('IBM C105', '-100', '.40', 'call', '105', priced),
    ]);
    expect(s(e.maintenanceRequirement)).toBe('41300');
    expect(groups(e).map((g) => g.strategy)).toEqual(['vertical-spread']);
  });

  it('long straddle: both legs paid in full', () => {
    // 31,800 + 16,800 = 48,600. ([CBOE-PM] prints $48,500 for this row: its own two premiums add to 48,600.)
    const e = book([
      opt('IBM P100', '100', '3.18', 'put', '100', priced),
      opt('IBM C100', '100', '1.68', 'call', '100', priced),
    ]);
    expect(s(e.maintenanceRequirement)).toBe('48600');
  });

  it('credit put spread [EDELTA]: the strike difference', () => {
    // Long 120 put at 0.80, short 125 put at 1.24: manual 500 (long paid: 580 printed, proceeds 124 → 456).
    // Net basis: 500 + 80 − 124 = 456.
    const e = book([
      { ...opt('X P120', '1', '0.80', 'put', '120'), underlying: 'X', underlyingPrice: '130' },
      { ...opt('X P125', '-1', '1.24', 'put', '125'), underlying: 'X', underlyingPrice: '130' },
    ]);
    expect(s(e.maintenanceRequirement)).toBe('456');
  });

  it('short strangle [TASTY]: the greater side plus the other premium', () => {
    // U 45, short 47 call at 2.10, short 43 put at 1.20. Call: (9 − 2 + 2.10) × 100 = 910; put: (9 − 2 + 1.20) × 100 = 820.
    // Manual 910 + 120 = 1,030 (printed: $1,030); net 1,030 − 210 − 120 = 700.
    const u = { underlying: 'T', underlyingPrice: '45', expiry: '2026-03-20' };
    const e = book([
      { ...opt('T C47', '-1', '2.10', 'call', '47'), ...u },
      { ...opt('T P43', '-1', '1.20', 'put', '43'), ...u },
    ]);
    expect(s(e.maintenanceRequirement)).toBe('700');
    expect(groups(e).map((g) => g.strategy)).toEqual(['short-straddle']);
  });

  it('short put butterfly [TASTY]: the maximum loss', () => {
    // −3 75P at 1.50, +6 80P at 4.00, −3 85P at 6.00. Payoff at 80: −3 × 5 × 100 = −1,500, 0 at ≤ 75 and ≥ 85:
    // manual 1,500 (printed: $1,500). Net: 1,500 + 6 × 400 − 3 × 150 − 3 × 600 = 1,650.
    const u = { underlying: 'B', underlyingPrice: '80' };
    const e = book([
      { ...opt('B P75', '-3', '1.50', 'put', '75'), ...u },
      { ...opt('B P80', '6', '4.00', 'put', '80'), ...u },
      { ...opt('B P85', '-3', '6.00', 'put', '85'), ...u },
    ]);
    expect(s(e.maintenanceRequirement)).toBe('1650');
    expect(groups(e).map((g) => g.strategy)).toEqual(['butterfly']);
  });

  it('long call butterfly [CBOE-MM]: the net debit, paid in full', () => {
    // +1 C90 at 11, −2 C100 at 4, +1 C110 at 1: payoff ≥ 0 everywhere → manual 0; net 1,100 − 800 + 100 = 400.
    const u = { underlying: 'F', underlyingPrice: '100' };
    const e = book([
      { ...opt('F C90', '1', '11', 'call', '90'), ...u },
      { ...opt('F C100', '-2', '4', 'call', '100'), ...u },
      { ...opt('F C110', '1', '1', 'call', '110'), ...u },
    ]);
    expect(s(e.maintenanceRequirement)).toBe('400');
  });

  it('short iron condor [CBOE-MM]: the wider side only, both cannot lose', () => {
    // +P90 0.5, −P95 1.5, −C105 1.6, +C110 0.4 at U 100: maximum loss 5 × 100 = 500 (the two spreads alone
    // would be 500 + 500). Net: 500 + 50 − 150 − 160 + 40 = 280.
    const u = { underlying: 'I', underlyingPrice: '100' };
    const e = book([
      { ...opt('I P90', '1', '0.5', 'put', '90'), ...u },
      { ...opt('I P95', '-1', '1.5', 'put', '95'), ...u },
      { ...opt('I C105', '-1', '1.6', 'call', '105'), ...u },
      { ...opt('I C110', '1', '0.4', 'call', '110'), ...u },
    ]);
    expect(s(e.maintenanceRequirement)).toBe('280');
    expect(groups(e).map((g) => g.strategy)).toEqual(['iron-condor']);
  });

  it('short box [CBOE-MM]: the strike difference; long box: the debit', () => {
    // Short box 100/110: −C100 6, +C110 1, +P100 1, −P110 5.8: payoff −10 everywhere → 1,000;
    // net 1,000 − 600 + 100 + 100 − 580 = 20.
    const u = { underlying: 'X', underlyingPrice: '104' };
    const legs = (sign: string) => [
      { ...opt('X C100', `${sign}1`, '6', 'call', '100'), ...u },
      { ...opt('X C110', `${sign === '-' ? '' : '-'}1`, '1', 'call', '110'), ...u },
      { ...opt('X P100', `${sign === '-' ? '' : '-'}1`, '1', 'put', '100'), ...u },
      { ...opt('X P110', `${sign}1`, '5.8', 'put', '110'), ...u },
    ];
    const short = book(legs('-'));
    expect(s(short.maintenanceRequirement)).toBe('20');
    expect(groups(short).map((g) => g.strategy)).toEqual(['box-spread']);
    // Long box: +C100 −C110 −P100 +P110: net debit 600 − 100 − 100 + 580 = 980 (no loan value taken).
    expect(s(book(legs('')).maintenanceRequirement)).toBe('980');
  });

  it('condor [CBOE-MM]: the maximum loss of four calls', () => {
    // Short call condor −C90 12, +C95 8, +C105 2.5, −C110 1: payoff at ≤ 90: 0, 90–95 falls to −5, flat to 105,
    // back to 0 at 110 → 500; net 500 − 1,200 + 800 + 250 − 100 = 250.
    const u = { underlying: 'K', underlyingPrice: '100' };
    const e = book([
      { ...opt('K C90', '-1', '12', 'call', '90'), ...u },
      { ...opt('K C95', '1', '8', 'call', '95'), ...u },
      { ...opt('K C105', '1', '2.5', 'call', '105'), ...u },
      { ...opt('K C110', '-1', '1', 'call', '110'), ...u },
    ]);
    expect(s(e.maintenanceRequirement)).toBe('250');
    expect(groups(e).map((g) => g.strategy)).toEqual(['condor']);
  });

  it('conversion and reversal [CBOE-MM]: 10% of the strike', () => {
    // Conversion at U = K = 100: +100 shares, +P100 at 3, −C100 at 4.
    // min(10% × 100 + 0, 25% × 100) × 100 = 1,000; + 300 − 400 = 900.
    const c = book([
      { instrument: 'V', quantity: '100', price: '100' },
      { ...opt('V P100', '1', '3', 'put', '100'), underlying: 'V' },
      { ...opt('V C100', '-1', '4', 'call', '100'), underlying: 'V' },
    ]);
    expect(s(c.maintenanceRequirement)).toBe('900');
    expect(groups(c).map((g) => g.strategy)).toEqual(['conversion']);
    // Reversal: −100 shares, +C100 at 4, −P100 at 3: min(10, max(30%, $5) = 30) × 100 = 1,000; + 400 − 300 = 1,100.
    const r = book([
      { instrument: 'V', quantity: '-100', price: '100' },
      { ...opt('V C100', '1', '4', 'call', '100'), underlying: 'V' },
      { ...opt('V P100', '-1', '3', 'put', '100'), underlying: 'V' },
    ]);
    expect(s(r.maintenanceRequirement)).toBe('1100');
    expect(groups(r).map((g) => g.strategy)).toEqual(['reversal']);
  });

  it('a long option with more than nine months to run has loan value: 75% of its value', () => {
    const leap = (expiry: string) =>
      book([{ ...opt('L C100', '1', '10', 'call', '100'), underlying: 'L', underlyingPrice: '100', expiry }])
        .maintenanceRequirement;
    expect(s(leap('2026-12-02'))).toBe('1000'); // exactly nine months after 2026-03-02: paid in full
    expect(s(leap('2026-12-03'))).toBe('750');
  });

  it('pairs only what fits: 3 short calls against 250 shares cover 2, one stays naked', () => {
    // Covered: 2 × (25% × 100 × 50 − 100 × 1) = 2 × 1,150 = 2,300; 50 shares alone 25% × 2,500 = 625;
    // naked: max(20% × 50 − 5, 10% × 50) × 100 = 500. Total 3,425.
    const e = book([
      { instrument: 'W', quantity: '250', price: '50' },
      { ...opt('W C55', '-3', '1', 'call', '55'), underlying: 'W' },
    ]);
    expect(s(e.maintenanceRequirement)).toBe('3425');
    expect(
      groups(e)
        .map((g) => g.strategy)
        .sort(),
    ).toEqual(['covered-call', 'naked-call', 'stock']);
  });
});

describe('option positions: schema and book rules', () => {
  const account = { model: 'reg-t', cash: '1000' };
  const fails = (positions: Record<string, unknown>[], model = 'reg-t') => {
    try {
      evaluateBook({ ...account, model, asOf: ASOF }, positions as never);
    } catch (e) {
      if (e instanceof InputError) return e.issues;
      throw e;
    }
    throw new Error('expected an InputError');
  };

  it('an option defaults to 100 per contract; a stock to 1', () => {
    const e = book([opt('IBM C100', '1', '1.68', 'call', '100', priced)]);
    expect(s(e.positions[0]!.marketValue)).toBe('168');
  });

  it('names missing terms, terms on a non-option and fractional contracts', () => {
    expect(
      fails([{ instrument: 'X', quantity: '-1.5', price: '1', instrumentType: 'option', underlying: 'Y' }]),
    ).toEqual([
      { field: 'positions[0].right', message: 'required for an option' },
      { field: 'positions[0].strike', message: 'required for an option' },
      { field: 'positions[0].expiry', message: 'required for an option' },
      { field: 'positions[0].underlyingClass', message: 'required for an option' },
      { field: 'positions[0].quantity', message: 'options trade in whole contracts' },
    ]);
    expect(fails([{ instrument: 'X', quantity: '1', price: '1', strike: '10' }])).toEqual([
      { field: 'positions[0].strike', message: 'only for options (instrumentType: "option")' },
    ]);
  });

  it('the underlying must be priced: held, or underlyingPrice, and agreeing', () => {
    expect(fails([opt('IBM C100', '-1', '1', 'call', '100')])).toEqual([
      { field: 'positions[0].underlyingPrice', message: 'required: the book does not hold IBM' },
    ]);
    expect(fails([stock('100', '97'), opt('IBM C100', '-1', '1', 'call', '100', priced)])).toEqual([
      {
        field: 'positions[1].underlyingPrice',
        message: '97.73 disagrees with the held IBM at 97 (positions[0].price)',
      },
    ]);
  });

  it('an expired option is refused (settle it first), never priced', () => {
    const issues = fails([opt('IBM C100', '-1', '1', 'call', '100', { ...priced, expiry: '2026-02-27' })]);
    expect(issues.map((i) => i.field)).toEqual(['positions[0].expiry']);
    expect(issues[0]!.message).toMatch(/^expired on 2026-02-27/);
  });

  it('models that do not price options refuse them by name', () => {
    for (const model of ['gross', 'tiered', 'portfolio'])
      expect(
        fails([{ ...opt('IBM C100', '1', '1', 'call', '100', priced), avgCost: '1' }], model).map(
          (i) => i.field,
        ),
      ).toContain('positions[0].instrumentType');
  });
});
