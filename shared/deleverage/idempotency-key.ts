import { createHash } from 'node:crypto';

/**
 * Deterministic order key: the same (account, incident, step, instrument) always yields the same key, so
 * a broker's order system can drop a repeated request and a retried step can never double an order.
 */
export function orderIdempotencyKey(
  accountId: string,
  incidentId: string,
  step: string,
  instrument: string,
): string {
  const digest = createHash('sha256')
    .update([accountId, incidentId, step, instrument].join('\u0000'))
    .digest('hex');
  return `mg-${digest.slice(0, 40)}`;
}
