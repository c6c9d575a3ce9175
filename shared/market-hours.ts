/**
 * Trading sessions and market-hours-aware staleness. Pure: no I/O, no AWS; time zones through
 * `Intl.DateTimeFormat` (the IANA database Node ships), so daylight saving time is exact.
 *
 * - `us-equity`: the NYSE/Nasdaq regular session, 09:30–16:00 New York, Mon–Fri, except NYSE holidays;
 *   13:00 close on NYSE early-close days (tables below, 2020–2027).
 * - `cme-globex`: Sun 17:00 → Fri 16:00 Chicago, with the daily 16:00–17:00 maintenance break (Mon–Thu).
 * - `24x7`: always open (crypto).
 *
 * Extended hours are not modelled (a pre-market print is outside the session). CME holiday schedules are
 * not modelled: on a CME holiday a price keeps ageing and goes stale, which is the safe direction. Outside
 * 2020–2027 (the holiday table) `us-equity` is weekends only: an unlisted holiday also just ages prices.
 */

export const TRADING_SESSIONS = ['us-equity', 'cme-globex', '24x7'] as const;
export type TradingSession = (typeof TRADING_SESSIONS)[number];

export const isTradingSession = (v: unknown): v is TradingSession =>
  (TRADING_SESSIONS as readonly unknown[]).includes(v);

/**
 * The session an instrument follows by its position's asset class (shared/schemas/position.ts): equity →
 * `us-equity`, future → `cme-globex`, crypto → `24x7`. No class (or one this does not know) → `24x7`: the
 * clock always runs, as before market hours existed, so a missing class can never make a dead feed look
 * fresh. (The margin engine's own default class is `equity`; staleness deliberately does not follow it.)
 */
export function sessionForAssetClass(assetClass: unknown): TradingSession {
  switch (assetClass) {
    case 'equity':
      return 'us-equity';
    case 'future':
      return 'cme-globex';
    default:
      return '24x7';
  }
}

// ---------------------------------------------------------------------------------------------------
// Wall clocks. A "wall" time is a zone's local date and time written as a UTC epoch number, so plain UTC
// arithmetic on it is calendar arithmetic in that zone.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCache = new Map<string, Map<number, number>>();

/**
 * The zone's UTC offset (wall − instant, ms) at an instant. US zones change offset at 02:00 local, which
 * is always a whole UTC hour, so the offset is read once per UTC hour and cached.
 */
function offsetAt(zone: string, at: number): number {
  const hour = Math.floor(at / HOUR);
  let cache = offsetCache.get(zone);
  if (!cache) offsetCache.set(zone, (cache = new Map()));
  const hit = cache.get(hour);
  if (hit !== undefined) return hit;
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, format);
  }
  const start = hour * HOUR;
  const parts = format.formatToParts(new Date(start));
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  if (cache.size > 100_000) cache.clear();
  cache.set(hour, wall - start);
  return wall - start;
}

const toWall = (zone: string, at: number): number => at + offsetAt(zone, at);

/**
 * The instant of a wall time. Exact for every wall time outside the 01:00–03:00 hours of a DST change
 * day; session boundaries (09:30, 13:00, 16:00, 17:00) never fall there.
 */
function fromWall(zone: string, wall: number): number {
  const guess = wall - offsetAt(zone, wall);
  return wall - offsetAt(zone, guess);
}

/** Day number (days since 1970-01-01) of a wall time, and its weekday (0 = Sunday). */
const dayOf = (wall: number) => Math.floor(wall / DAY);
const weekday = (day: number) => (((day + 4) % 7) + 7) % 7;
const dayNumber = (iso: string) => Date.UTC(+iso.slice(0, 4), +iso.slice(5, 7) - 1, +iso.slice(8, 10)) / DAY;

// ---------------------------------------------------------------------------------------------------
// Exchange holidays.

/**
 * NYSE full-day closures, 2020–2027. Source: NYSE, "Holidays and Trading Hours"
 * (https://www.nyse.com/markets/hours-calendars) and its yearly holiday-calendar announcements; 2025-01-09
 * is the National Day of Mourning for President Carter (announced separately). Nasdaq follows the same
 * calendar. Extend the table each year when NYSE publishes the next one.
 */
// prettier-ignore
export const NYSE_HOLIDAYS: readonly string[] = [
  // 2020
  '2020-01-01', '2020-01-20', '2020-02-17', '2020-04-10', '2020-05-25', '2020-07-03', '2020-09-07',
  '2020-11-26', '2020-12-25',
  // 2021 (New Year's Day 2022 fell on a Saturday: not observed on 2021-12-31)
  '2021-01-01', '2021-01-18', '2021-02-15', '2021-04-02', '2021-05-31', '2021-07-05', '2021-09-06',
  '2021-11-25', '2021-12-24',
  // 2022 (Juneteenth observed from 2022)
  '2022-01-17', '2022-02-21', '2022-04-15', '2022-05-30', '2022-06-20', '2022-07-04', '2022-09-05',
  '2022-11-24', '2022-12-26',
  // 2023
  '2023-01-02', '2023-01-16', '2023-02-20', '2023-04-07', '2023-05-29', '2023-06-19', '2023-07-04',
  '2023-09-04', '2023-11-23', '2023-12-25',
  // 2024
  '2024-01-01', '2024-01-15', '2024-02-19', '2024-03-29', '2024-05-27', '2024-06-19', '2024-07-04',
  '2024-09-02', '2024-11-28', '2024-12-25',
  // 2025
  '2025-01-01', '2025-01-09', '2025-01-20', '2025-02-17', '2025-04-18', '2025-05-26', '2025-06-19',
  '2025-07-04', '2025-09-01', '2025-11-27', '2025-12-25',
  // 2026
  '2026-01-01', '2026-01-19', '2026-02-16', '2026-04-03', '2026-05-25', '2026-06-19', '2026-07-03',
  '2026-09-07', '2026-11-26', '2026-12-25',
  // 2027 (New Year's Day 2028 falls on a Saturday: not observed on 2027-12-31)
  '2027-01-01', '2027-01-18', '2027-02-15', '2027-03-26', '2027-05-31', '2027-06-18', '2027-07-05',
  '2027-09-06', '2027-11-25', '2027-12-24',
];

/** NYSE early closes (13:00 New York), 2020–2027, from the same source. */
// prettier-ignore
export const NYSE_EARLY_CLOSES: readonly string[] = [
  '2020-11-27', '2020-12-24', '2021-11-26', '2022-11-25', '2023-07-03', '2023-11-24', '2024-07-03',
  '2024-11-29', '2024-12-24', '2025-07-03', '2025-11-28', '2025-12-24', '2026-11-27', '2026-12-24',
  '2027-11-26',
];

const nyseClosed = new Set(NYSE_HOLIDAYS.map(dayNumber));
const nyseEarly = new Set(NYSE_EARLY_CLOSES.map(dayNumber));

// ---------------------------------------------------------------------------------------------------
// Calendars: per trading day, the session's open and close as wall times in the exchange's zone.

interface Calendar {
  zone: string;
  /** The session of trading day `day` as [open, close) wall times, or null if there is none. */
  session(day: number): readonly [number, number] | null;
}

const CALENDARS: Record<Exclude<TradingSession, '24x7'>, Calendar> = {
  'us-equity': {
    zone: 'America/New_York',
    session(day) {
      const wd = weekday(day);
      if (wd === 0 || wd === 6 || nyseClosed.has(day)) return null;
      return [day * DAY + 9 * HOUR + 30 * MINUTE, day * DAY + (nyseEarly.has(day) ? 13 : 16) * HOUR];
    },
  },
  'cme-globex': {
    // Trading day D (Mon–Fri) runs from 17:00 the evening before to 16:00 on D.
    zone: 'America/Chicago',
    session(day) {
      const wd = weekday(day);
      if (wd === 0 || wd === 6) return null;
      return [(day - 1) * DAY + 17 * HOUR, day * DAY + 16 * HOUR];
    },
  },
};

/** No session is closed for longer than this (a long weekend is 4 days); the search stops there. */
const MAX_CLOSED_DAYS = 14;

export interface SessionInterval {
  open: Date;
  /** Exclusive: at the close the market is closed. */
  close: Date;
}

function sessionContaining(at: number, cal: Calendar): [number, number] | null {
  const today = dayOf(toWall(cal.zone, at));
  // A CME session that is open at `at` belongs to today's or tomorrow's trading day.
  for (const day of [today, today + 1]) {
    const s = cal.session(day);
    if (!s) continue;
    const open = fromWall(cal.zone, s[0]);
    const close = fromWall(cal.zone, s[1]);
    if (open <= at && at < close) return [open, close];
  }
  return null;
}

function nextOpenAfter(at: number, cal: Calendar): number {
  const today = dayOf(toWall(cal.zone, at));
  for (let day = today; day <= today + MAX_CLOSED_DAYS; day++) {
    const s = cal.session(day);
    if (!s) continue;
    const open = fromWall(cal.zone, s[0]);
    if (open > at) return open;
  }
  throw new Error(`no session opens within ${MAX_CLOSED_DAYS} days of ${new Date(at).toISOString()}`);
}

const instant = (at: Date | number): number => (typeof at === 'number' ? at : at.getTime());

/** The session interval containing an instant, or null when the market is closed. `24x7`: unbounded. */
export function sessionAt(at: Date | number, session: TradingSession): SessionInterval | null {
  const t = instant(at);
  if (session === '24x7') return { open: new Date(-8.64e15), close: new Date(8.64e15) };
  const s = sessionContaining(t, CALENDARS[session]);
  return s && { open: new Date(s[0]), close: new Date(s[1]) };
}

export const isSessionOpen = (at: Date | number, session: TradingSession): boolean =>
  session === '24x7' || sessionContaining(instant(at), CALENDARS[session]) !== null;

/** The instant itself when the market is open, else the next session's open. */
export function sessionOpenFrom(at: Date, session: TradingSession): Date {
  if (isSessionOpen(at, session)) return at;
  return new Date(nextOpenAfter(at.getTime(), CALENDARS[session as Exclude<TradingSession, '24x7'>]));
}

/**
 * The instant after which a price observed at `priceTime` is stale: it is stale at `now` exactly when
 * `now > staleSince(priceTime, …)`.
 *
 * - Observed in an open session and `staleAfterMs` elapses before that session closes
 *   (`priceTime + staleAfterMs < close`): `priceTime + staleAfterMs` — exactly the wall-clock rule.
 * - Otherwise (observed while the market is closed, or within `staleAfterMs` of the close): the next
 *   session's open + `staleAfterMs`. A price still fresh at the close (a closing print, the last trade of
 *   the day) stays fresh until `staleAfterMs` into the next session; if no tick comes by then, it is stale.
 * - `24x7`: always `priceTime + staleAfterMs`.
 *
 * Closed time (nights, weekends, holidays, CME's daily break) never ages a price. With `staleAfterMs`
 * shorter than a session (the deployed range: 10 s up to hours) that is all there is to it; a longer
 * allowance runs on the wall clock from the open. Properties: never earlier than `priceTime +
 * staleAfterMs` (never stricter than the plain rule); monotone in `priceTime` (a newer price is never
 * stale sooner). An invalid `priceTime` gives an invalid date (never stale, as with the plain rule; the
 * engine flags the invalid time itself).
 *
 * Exported for capacity models: the holders enqueued by the watch sweep at an instant are those of the
 * instruments whose `staleSince` falls in its window.
 */
export function staleSince(priceTime: Date | number, session: TradingSession, staleAfterMs: number): Date {
  const t = instant(priceTime);
  if (!Number.isFinite(t)) return new Date(NaN);
  if (session === '24x7') return new Date(t + staleAfterMs);
  const cal = CALENDARS[session];
  const current = sessionContaining(t, cal);
  if (current && t + staleAfterMs < current[1]) return new Date(t + staleAfterMs);
  return new Date(nextOpenAfter(t, cal) + staleAfterMs);
}

/** Whether a price observed at `priceTime` is stale at `now` (see `staleSince`). */
export function isStale(
  priceTime: Date | number,
  now: Date | number,
  session: TradingSession,
  staleAfterMs: number,
): boolean {
  const t = instant(priceTime);
  const n = instant(now);
  // Fresh by the plain rule is fresh in every session: no calendar work on the hot path.
  if (!(n - t > staleAfterMs)) return false;
  return n > staleSince(t, session, staleAfterMs).getTime();
}
