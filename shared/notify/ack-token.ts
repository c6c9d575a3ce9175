import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * One-click acknowledgement links: the page id, who the link was sent to, and an expiry, signed with
 * HMAC-SHA256. Whoever holds the link may acknowledge that one page until it expires, and nothing else.
 *
 * A link names the key that signed it (`payload.mac.kid`), so the signing secret can be rotated without
 * voiding the links already sent: verification is given the current and the previous keys and uses the
 * one the link names. Links signed before key ids existed (`payload.mac`) are checked against each key.
 */
export class AckLinkError extends Error {
  constructor(
    readonly code: 'ack-link-invalid' | 'ack-link-expired',
    message: string,
  ) {
    super(message);
    this.name = 'AckLinkError';
  }
}

/** HMAC-SHA256 truncated to 128 bits: short enough for an SMS link, far beyond guessing. */
const mac = (payload: string, secret: string | Buffer) =>
  createHmac('sha256', secret).update(payload).digest().subarray(0, 16);

/**
 * A key's id: 48 bits of a hash of the key (8 characters in a link). It tells keys apart; it is not a
 * secret and reveals nothing about the key.
 */
export function ackKid(secret: string | Buffer): string {
  return createHash('sha256')
    .update('margin-guard/ack-key-id\u0000')
    .update(secret)
    .digest()
    .subarray(0, 6)
    .toString('base64url');
}

/** The key id a link names (unverified: it only picks the key to check with); null for links without one. */
export function tokenKid(token: string): string | null {
  const parts = token.split('.');
  return parts.length === 3 && parts[2] ? parts[2] : null;
}

/** `who` names the recipient the link was sent to (its route), for the audit trail. */
export function signAck(pageId: string, expiresAt: Date, secret: string | Buffer, who = 'link'): string {
  const payload = Buffer.from(
    JSON.stringify({ p: pageId, w: who, e: Math.floor(expiresAt.getTime() / 1000) }),
  ).toString('base64url');
  return `${payload}.${mac(payload, secret).toString('base64url')}.${ackKid(secret)}`;
}

/**
 * Verifies a link against the keys in force, current first (e.g. [AWSCURRENT, AWSPREVIOUS]): the key the
 * link names, or for a link without a key id each of them. A key no longer given (rotated out twice) no
 * longer verifies its links.
 */
export function verifyAck(
  token: string,
  secrets: string | Buffer | readonly (string | Buffer)[],
  now: Date,
): { pageId: string; who: string } {
  const invalid = () => new AckLinkError('ack-link-invalid', 'query.token: not an acknowledgement link');
  const keys = typeof secrets === 'string' || Buffer.isBuffer(secrets) ? [secrets] : secrets;
  const parts = token.split('.');
  const [payload, signature] = parts;
  if (!payload || !signature || parts.length > 3) throw invalid();
  const kid = tokenKid(token);
  if (parts.length === 3 && kid === null) throw invalid();
  const candidates = kid === null ? keys : keys.filter((k) => ackKid(k) === kid);
  const given = Buffer.from(signature, 'base64url');
  const signed = candidates.some((key) => {
    const expected = mac(payload, key);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!signed) throw invalid();
  const { p, w, e } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
    p: string;
    w: string;
    e: number;
  };
  if (now.getTime() / 1000 > e)
    throw new AckLinkError(
      'ack-link-expired',
      'query.token: the link has expired; acknowledge in the console',
    );
  return { pageId: p, who: w };
}
