/**
 * Where an output carries "NaN" or "Infinity": every string value of a JSON document is a decimal field
 * or a date, except names and text that echo what a user typed (an account may be called "NaN"), which
 * are skipped by key. Returns the paths found ([] when the output is clean).
 */
const NOT_DECIMAL = new Set([
  // names that come from input
  'accountId',
  'id',
  'instrument',
  'instruments',
  'staleInstruments',
  'incidentId',
  'eventId',
  'idempotencyKey',
  'requestId',
  'brokerOrderId',
  'connectionId',
  'user',
  'by',
  'actor',
  'name',
  // free text
  'message',
  'headline',
  'summary',
  'reason',
  'reasons',
  'violations',
  'description',
  'done',
  'next',
  'text',
  'title',
]);

const NON_FINITE = /(^|[^A-Za-z])(NaN|Infinity)([^A-Za-z]|$)/;

export function nonFiniteDecimals(value: unknown, path = '', key = ''): string[] {
  if (typeof value === 'string') return !NOT_DECIMAL.has(key) && NON_FINITE.test(value) ? [path] : [];
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => nonFiniteDecimals(v, `${path}[${i}]`, key));
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).flatMap(([k, v]) => nonFiniteDecimals(v, path ? `${path}.${k}` : k, k));
  return [];
}
