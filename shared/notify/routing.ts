import type { Alert } from './alert.ts';
import { severityRank, type NotificationPolicy, type Route } from './policy.ts';

/** The routes an alert goes to: every rule whose categories include it and whose minimum severity it meets. */
export function routesFor(alert: Pick<Alert, 'category' | 'severity'>, policy: NotificationPolicy): Route[] {
  const names = new Set(
    policy.rules
      .filter(
        (r) =>
          r.categories.includes(alert.category) &&
          severityRank(alert.severity) >= severityRank(r.minSeverity),
      )
      .flatMap((r) => r.routes),
  );
  return policy.routes.filter((r) => names.has(r.name));
}

/** Whether an alert pages on-call (up the ladder until acknowledged). */
export function pages(alert: Pick<Alert, 'category' | 'severity'>, policy: NotificationPolicy): boolean {
  return (
    policy.onCall.length > 0 &&
    (alert.severity === 'critical' || policy.pageCategories.includes(alert.category))
  );
}

/** Minutes since local midnight in a time zone. */
function localMinutes(at: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? '0');
  return get('hour') * 60 + get('minute');
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * When a route's quiet hours hold a non-critical alert back: the end of the quiet window (null: deliver
 * now). Windows may cross midnight (22:00–07:00). Critical alerts are never held.
 */
export function heldUntil(route: Route, alert: Pick<Alert, 'severity'>, at: Date): Date | null {
  const quiet = route.quietHours;
  if (!quiet || alert.severity === 'critical') return null;
  const now = localMinutes(at, quiet.timeZone);
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  const inside = start <= end ? now >= start && now < end : now >= start || now < end;
  if (!inside) return null;
  const wait = (end - now + 1440) % 1440;
  return new Date(Math.floor(at.getTime() / 60_000) * 60_000 + wait * 60_000);
}

/** Digest routes collect non-critical alerts; critical ones always go at once. */
export const digested = (route: Route, alert: Pick<Alert, 'severity'>) =>
  route.digest === true && alert.severity !== 'critical';
