import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isSessionOpen,
  isStale,
  NYSE_EARLY_CLOSES,
  NYSE_HOLIDAYS,
  sessionAt,
  sessionForAssetClass,
  sessionOpenFrom,
  staleSince,
  type TradingSession,
} from '../../../shared/market-hours.ts';

const FIVE_MIN = 300_000;
const at = (iso: string) => new Date(iso);
const since = (iso: string, session: TradingSession, staleAfterMs = FIVE_MIN) =>
  staleSince(at(iso), session, staleAfterMs).toISOString();
const stale = (priceIso: string, nowIso: string, session: TradingSession, staleAfterMs = FIVE_MIN) =>
  isStale(at(priceIso), at(nowIso), session, staleAfterMs);

describe('us-equity: worked examples (staleAfter 300 s)', () => {
  // Friday 2026-01-09 16:00 EST = 21:00Z: the closing print.
  const close = '2026-01-09T21:00:00.000Z';

  it('a Friday close is not stale on Saturday, Sunday or at Monday 09:30; stale from 09:35 without a tick', () => {
    expect(stale(close, '2026-01-10T15:00:00Z', 'us-equity')).toBe(false); // Saturday
    expect(stale(close, '2026-01-11T23:59:00Z', 'us-equity')).toBe(false); // Sunday night
    expect(stale(close, '2026-01-12T14:30:00Z', 'us-equity')).toBe(false); // Monday 09:30 EST: the open
    expect(stale(close, '2026-01-12T14:35:00Z', 'us-equity')).toBe(false); // 09:35 exactly: 300 s, not more
    expect(stale(close, '2026-01-12T14:35:00.001Z', 'us-equity')).toBe(true);
    expect(since(close, 'us-equity')).toBe('2026-01-12T14:35:00.000Z');
    // The wall-clock rule would have flagged it at 16:05 on Friday.
    expect(stale(close, '2026-01-09T21:05:01Z', '24x7')).toBe(true);
  });

  it('inside the session a price ages exactly as before', () => {
    expect(since('2026-01-12T15:00:00Z', 'us-equity')).toBe('2026-01-12T15:05:00.000Z'); // 10:00 EST
    expect(stale('2026-01-12T15:00:00Z', '2026-01-12T15:05:01Z', 'us-equity')).toBe(true);
    // 15:54:59 + 300 s is before the 16:00 close: stale at 15:59:59, and it stays stale overnight.
    expect(since('2026-01-12T20:54:59Z', 'us-equity')).toBe('2026-01-12T20:59:59.000Z');
    expect(stale('2026-01-12T20:54:59Z', '2026-01-13T03:00:00Z', 'us-equity')).toBe(true);
  });

  it('a price within staleAfter of the close is carried to the next open; so is one after it, or before the open', () => {
    expect(since('2026-01-12T20:55:00Z', 'us-equity')).toBe('2026-01-13T14:35:00.000Z'); // 15:55: 300 s reach 16:00
    expect(since('2026-01-12T20:58:00Z', 'us-equity')).toBe('2026-01-13T14:35:00.000Z');
    expect(since('2026-01-12T23:30:00Z', 'us-equity')).toBe('2026-01-13T14:35:00.000Z'); // after-hours print
    expect(since('2026-01-13T12:00:00Z', 'us-equity')).toBe('2026-01-13T14:35:00.000Z'); // pre-market print
    expect(since('2026-01-13T14:30:00Z', 'us-equity')).toBe('2026-01-13T14:35:00.000Z'); // at the open itself
  });

  it('across the spring DST change (Sunday 2026-03-08): Friday 16:00 EST → Monday 09:35 EDT', () => {
    const friday = '2026-03-06T21:00:00.000Z'; // 16:00 EST
    expect(since(friday, 'us-equity')).toBe('2026-03-09T13:35:00.000Z'); // 09:35 EDT = 13:35Z
    expect(stale(friday, '2026-03-09T13:30:00Z', 'us-equity')).toBe(false);
    expect(stale(friday, '2026-03-09T13:35:00.001Z', 'us-equity')).toBe(true);
    // Monday's close is 16:00 EDT = 20:00Z now.
    expect(sessionAt(at('2026-03-09T15:00:00Z'), 'us-equity')).toEqual({
      open: at('2026-03-09T13:30:00Z'),
      close: at('2026-03-09T20:00:00Z'),
    });
  });

  it('across the autumn DST change (Sunday 2026-11-01): Friday 16:00 EDT → Monday 09:35 EST', () => {
    const friday = '2026-10-30T20:00:00.000Z'; // 16:00 EDT
    expect(since(friday, 'us-equity')).toBe('2026-11-02T14:35:00.000Z'); // 09:35 EST = 14:35Z
    expect(stale(friday, '2026-11-02T13:35:01Z', 'us-equity')).toBe(false); // 08:35 EST: still closed
    expect(stale(friday, '2026-11-02T14:35:01Z', 'us-equity')).toBe(true);
  });

  it('Thanksgiving (2026-11-26) is closed, the day after closes at 13:00', () => {
    const wednesday = '2026-11-25T21:00:00.000Z'; // 16:00 EST
    expect(isSessionOpen(at('2026-11-26T16:00:00Z'), 'us-equity')).toBe(false); // Thursday 11:00
    expect(stale(wednesday, '2026-11-26T20:00:00Z', 'us-equity')).toBe(false);
    expect(since(wednesday, 'us-equity')).toBe('2026-11-27T14:35:00.000Z'); // Friday 09:35
    // Friday closes at 13:00 EST = 18:00Z: a print at 12:58 is carried over the weekend.
    expect(isSessionOpen(at('2026-11-27T17:59:59Z'), 'us-equity')).toBe(true);
    expect(isSessionOpen(at('2026-11-27T18:00:00Z'), 'us-equity')).toBe(false);
    expect(since('2026-11-27T17:58:00Z', 'us-equity')).toBe('2026-11-30T14:35:00.000Z');
    expect(since('2026-11-27T17:50:00Z', 'us-equity')).toBe('2026-11-27T17:55:00.000Z');
  });

  it('a long weekend: Good Friday 2026-04-03 closed, Thursday close → Monday 09:35 EDT', () => {
    expect(since('2026-04-02T20:00:00Z', 'us-equity')).toBe('2026-04-06T13:35:00.000Z');
  });
});

describe('cme-globex: worked examples (staleAfter 300 s)', () => {
  it('the daily 16:00–17:00 Chicago break does not age a price', () => {
    // Tuesday 2026-03-10, CDT (UTC−5): 15:58 CT = 20:58Z; the break ends 17:00 CT = 22:00Z.
    expect(isSessionOpen(at('2026-03-10T21:30:00Z'), 'cme-globex')).toBe(false);
    expect(since('2026-03-10T20:58:00Z', 'cme-globex')).toBe('2026-03-10T22:05:00.000Z');
    expect(stale('2026-03-10T20:58:00Z', '2026-03-10T21:59:00Z', 'cme-globex')).toBe(false);
    expect(stale('2026-03-10T20:58:00Z', '2026-03-10T22:05:01Z', 'cme-globex')).toBe(true);
    expect(since('2026-03-10T21:30:00Z', 'cme-globex')).toBe('2026-03-10T22:05:00.000Z'); // inside the break
    expect(since('2026-03-10T20:00:00Z', 'cme-globex')).toBe('2026-03-10T20:05:00.000Z'); // 15:00 CT: in session
    // Overnight is in session on Globex: 02:00 CT ages as on the wall clock.
    expect(since('2026-03-11T07:00:00Z', 'cme-globex')).toBe('2026-03-11T07:05:00.000Z');
  });

  it('the weekend: Friday 16:00 CT → Sunday 17:05 CT, across the spring DST change', () => {
    // Friday 2026-03-06 16:00 CST = 22:00Z; Sunday 2026-03-08 17:00 CDT = 22:00Z.
    expect(since('2026-03-06T22:00:00Z', 'cme-globex')).toBe('2026-03-08T22:05:00.000Z');
    expect(isSessionOpen(at('2026-03-07T18:00:00Z'), 'cme-globex')).toBe(false); // Saturday
    expect(isSessionOpen(at('2026-03-08T21:59:59Z'), 'cme-globex')).toBe(false); // Sunday 16:59 CDT
    expect(isSessionOpen(at('2026-03-08T22:00:00Z'), 'cme-globex')).toBe(true);
    expect(sessionAt(at('2026-03-09T15:00:00Z'), 'cme-globex')).toEqual({
      open: at('2026-03-08T22:00:00Z'),
      close: at('2026-03-09T21:00:00Z'),
    });
  });
});

describe('24x7 and the session of an asset class', () => {
  it('crypto never closes: a Saturday price ages as on the wall clock', () => {
    expect(since('2026-03-07T12:00:00Z', '24x7')).toBe('2026-03-07T12:05:00.000Z');
    expect(stale('2026-03-07T12:00:00Z', '2026-03-07T12:05:01Z', '24x7')).toBe(true);
    expect(isSessionOpen(at('2026-11-26T16:00:00Z'), '24x7')).toBe(true);
    expect(sessionOpenFrom(at('2026-03-07T12:00:00Z'), '24x7').toISOString()).toBe(
      '2026-03-07T12:00:00.000Z',
    );
  });

  it('equity → us-equity, future → cme-globex, crypto, none or unknown → 24x7', () => {
    expect(sessionForAssetClass('equity')).toBe('us-equity');
    expect(sessionForAssetClass('future')).toBe('cme-globex');
    expect(sessionForAssetClass('crypto')).toBe('24x7');
    expect(sessionForAssetClass(undefined)).toBe('24x7');
    expect(sessionForAssetClass('option')).toBe('24x7');
  });

  it('an unparsable price time is never stale (the engine flags it as invalid data)', () => {
    expect(isStale(Number.NaN, at('2026-03-07T12:00:00Z'), 'us-equity', FIVE_MIN)).toBe(false);
    expect(Number.isNaN(staleSince(Number.NaN, 'cme-globex', FIVE_MIN).getTime())).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------
// An independent reference: NYSE's holiday rules, US DST rules by hand (no Intl), minute-by-minute search.

const DAY = 86_400_000;
const ymd = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d);
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const wd = (ms: number) => new Date(ms).getUTCDay();
/** The n-th (1-based; −1 = last) weekday `w` of a month. */
function nth(y: number, m: number, w: number, n: number): number {
  if (n < 0) {
    let d = ymd(y, m + 1, 1) - DAY;
    while (wd(d) !== w) d -= DAY;
    return d;
  }
  let d = ymd(y, m, 1);
  while (wd(d) !== w) d += DAY;
  return d + (n - 1) * 7 * DAY;
}
/** Easter Sunday (anonymous Gregorian algorithm). */
function easter(y: number): number {
  const a = y % 19;
  const b = Math.floor(y / 100);
  const c = y % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const mm = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * mm + 114) / 31);
  const day = ((h + l - 7 * mm + 114) % 31) + 1;
  return ymd(y, month, day);
}
/** NYSE rule 7.2: Saturday holidays on the Friday before (New Year's Day excepted), Sunday ones on Monday. */
const observed = (d: number, newYear = false) =>
  wd(d) === 6 ? (newYear ? null : d - DAY) : wd(d) === 0 ? d + DAY : d;
function ruleHolidays(y: number): string[] {
  const days = [
    observed(ymd(y, 1, 1), true),
    nth(y, 1, 1, 3),
    nth(y, 2, 1, 3),
    easter(y) - 2 * DAY,
    nth(y, 5, 1, -1),
    y >= 2022 ? observed(ymd(y, 6, 19)) : null,
    observed(ymd(y, 7, 4)),
    nth(y, 9, 1, 1),
    nth(y, 11, 4, 4),
    observed(ymd(y, 12, 25)),
  ];
  if (y === 2025) days.push(ymd(2025, 1, 9)); // National Day of Mourning, President Carter
  return days
    .filter((d): d is number => d !== null)
    .map(iso)
    .sort();
}
function ruleEarlyCloses(y: number): string[] {
  const out: number[] = [nth(y, 11, 4, 4) + DAY];
  const july3 = ymd(y, 7, 3);
  if (wd(july3) >= 1 && wd(july3) <= 4) out.push(july3);
  const eve = ymd(y, 12, 24);
  if (wd(eve) >= 1 && wd(eve) <= 4) out.push(eve);
  return out.map(iso).sort();
}

describe('the NYSE tables agree with the exchange rules, 2020–2027', () => {
  const years = [2020, 2021, 2022, 2023, 2024, 2025, 2026, 2027];
  it('holidays', () => {
    for (const y of years)
      expect(
        NYSE_HOLIDAYS.filter((d) => d.startsWith(`${y}`)),
        `${y}`,
      ).toEqual(ruleHolidays(y));
  });
  it('early closes', () => {
    for (const y of years)
      expect(
        NYSE_EARLY_CLOSES.filter((d) => d.startsWith(`${y}`)),
        `${y}`,
      ).toEqual(ruleEarlyCloses(y));
  });
});

const holidays = new Set([2020, 2021, 2022, 2023, 2024, 2025, 2026, 2027].flatMap(ruleHolidays));
const earlyCloses = new Set([2020, 2021, 2022, 2023, 2024, 2025, 2026, 2027].flatMap(ruleEarlyCloses));
/** US DST: second Sunday of March 02:00 local to first Sunday of November 02:00 local. */
function usOffsetHours(t: number, standard: number): number {
  const y = new Date(t).getUTCFullYear();
  const start = nth(y, 3, 0, 2) + (2 - standard) * 3_600_000; // 02:00 standard time, in UTC
  const end = nth(y, 11, 0, 1) + (2 - (standard + 1)) * 3_600_000; // 02:00 daylight time, in UTC
  return t >= start && t < end ? standard + 1 : standard;
}
function refOpen(t: number, session: Exclude<TradingSession, '24x7'>): boolean {
  const local = t + usOffsetHours(t, session === 'us-equity' ? -5 : -6) * 3_600_000;
  const d = new Date(local);
  const day = wd(local);
  const minutes = d.getUTCHours() * 60 + d.getUTCMinutes();
  if (session === 'us-equity') {
    const date = iso(local);
    if (day === 0 || day === 6 || holidays.has(date)) return false;
    return minutes >= 570 && minutes < (earlyCloses.has(date) ? 780 : 960);
  }
  if (day === 6) return false;
  if (day === 0) return minutes >= 1020;
  if (day === 5) return minutes < 960;
  return minutes < 960 || minutes >= 1020;
}
/** staleSince by brute force: open all through [t, t + s] → t + s; else the next open found minute by minute. */
function refStaleSince(t: number, session: Exclude<TradingSession, '24x7'>, s: number): number {
  const firstMinute = Math.floor(t / 60_000) * 60_000 + 60_000;
  let openThroughout = refOpen(t, session) && refOpen(t + s, session);
  for (let m = firstMinute; openThroughout && m <= t + s; m += 60_000) openThroughout = refOpen(m, session);
  if (openThroughout) return t + s;
  for (let m = firstMinute; ; m += 60_000)
    if (refOpen(m, session) && !refOpen(m - 60_000, session)) return m + s;
}

const RANGE = { min: Date.parse('2020-01-01T00:00:00Z'), max: Date.parse('2027-12-20T00:00:00Z') };
const HOURS = [13.5, 14.5, 17, 18, 19, 20, 21, 22, 23]; // UTC hours near session boundaries
/** Holidays, early closes and the days just before them, the days a mistake in a table would show. */
const specialDays = [...NYSE_HOLIDAYS, ...NYSE_EARLY_CLOSES].flatMap((d) => [
  Date.parse(`${d}T00:00:00Z`),
  Date.parse(`${d}T00:00:00Z`) - DAY,
]);
/** Instants anywhere; within minutes of the session boundaries (UTC 13:00–23:00); on special days. */
const instants = fc.oneof(
  fc.integer(RANGE),
  fc
    .tuple(
      fc.constantFrom(...specialDays),
      fc.constantFrom(...HOURS),
      fc.integer({ min: -900_000, max: 900_000 }),
    )
    .map(([day, hour, jitter]) => day + hour * 3_600_000 + jitter),
  fc
    .tuple(
      fc.integer({ min: 0, max: Math.floor((RANGE.max - RANGE.min) / DAY) }),
      fc.constantFrom(...HOURS),
      fc.integer({ min: -900_000, max: 900_000 }),
    )
    .map(([day, hour, jitter]) => RANGE.min + day * DAY + hour * 3_600_000 + jitter),
);
const allowances = fc.oneof(fc.constant(FIVE_MIN), fc.integer({ min: 10_000, max: 2 * 3_600_000 }));
const marketSessions = fc.constantFrom('us-equity' as const, 'cme-globex' as const);
const sessions = fc.constantFrom<TradingSession>('us-equity', 'cme-globex', '24x7');

describe('properties', () => {
  it('isSessionOpen and staleSince agree with the hand-written reference (DST and holidays by rule)', () => {
    fc.assert(
      fc.property(instants, allowances, marketSessions, (t, s, session) => {
        expect(isSessionOpen(t, session)).toBe(refOpen(t, session));
        expect(staleSince(t, session, s).getTime()).toBe(refStaleSince(t, session, s));
      }),
      { numRuns: 600 },
    );
  });

  it('staleness is monotone in now: once stale, stale at every later instant', () => {
    fc.assert(
      fc.property(instants, allowances, sessions, fc.nat(7 * DAY), fc.nat(7 * DAY), (t, s, session, a, b) => {
        const [early, late] = a <= b ? [a, b] : [b, a];
        if (isStale(t, t + early, session, s)) expect(isStale(t, t + late, session, s)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('never stricter than the wall-clock rule, a newer price never stale sooner, closed time never ages', () => {
    fc.assert(
      fc.property(instants, allowances, sessions, fc.nat(3 * DAY), (t, s, session, later) => {
        const a = staleSince(t, session, s).getTime();
        expect(a).toBeGreaterThanOrEqual(t + s);
        expect(staleSince(t + later, session, s).getTime()).toBeGreaterThanOrEqual(a);
        if (session !== '24x7' && !isSessionOpen(t, session)) {
          // Observed while closed: fresh until staleAfter after the open, whatever the wall clock says.
          const open = sessionOpenFrom(new Date(t), session).getTime();
          expect(a).toBe(open + s);
          expect(isStale(t, open + s, session, s)).toBe(false);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('a price inside an open session ages exactly as today while the session lasts', () => {
    fc.assert(
      fc.property(instants, allowances, sessions, fc.nat(2 * 3_600_000), (t, s, session, dt) => {
        const open = sessionAt(t, session);
        fc.pre(open !== null && t + s < open.close.getTime());
        const now = t + s + dt - 3_600_000; // up to an hour either side of t + s
        fc.pre(now < open!.close.getTime());
        expect(isStale(t, now, session, s)).toBe(now - t > s);
      }),
      { numRuns: 500 },
    );
  });
});
