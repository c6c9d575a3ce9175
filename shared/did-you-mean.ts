import { distance } from 'fastest-levenshtein';

/**
 * The allowed key an unknown one was most likely meant to be: a near miss by edit distance (case
 * ignored), at most one edit per four characters (so `maintenaceRate` → `maintenanceRate`, `Cash` →
 * `cash`), and only when one allowed key is nearest; null when none is close enough to guess.
 */
export function nearestKey(key: string, allowed: readonly string[]): string | null {
  const wanted = key.toLowerCase();
  const limit = Math.max(1, Math.floor(key.length / 4));
  let best: string | null = null;
  let bestDistance = Infinity;
  let tied = false;
  for (const candidate of allowed) {
    const d = distance(wanted, candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance, tied] = [candidate, d, false];
    else if (d === bestDistance) tied = true;
  }
  return best !== null && bestDistance <= limit && !tied ? best : null;
}

/** Lists of allowed keys longer than this are not spelt out in a message. */
const LISTED_KEYS = 24;

/** The message for an unknown key: a "did you mean" for a near miss, else the keys that are allowed. */
export function unknownKeyMessage(key: string, allowed: readonly string[] | undefined): string {
  if (!allowed) return 'unknown key';
  const near = nearestKey(key, allowed);
  if (near !== null) return `unknown key (did you mean ${JSON.stringify(near)}?)`;
  if (allowed.length === 0) return 'unknown key (this object takes no keys)';
  if (allowed.length > LISTED_KEYS) return 'unknown key';
  return `unknown key (expected one of ${allowed.join(', ')})`;
}
