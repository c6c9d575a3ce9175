import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * One-click acknowledgement links: the page id, who the link was sent to, and an expiry, signed with
 * HMAC-SHA256. Whoever holds the link may acknowledge that one page until it expires, and nothing else.
 */
export class AckLinkError extends Error {
  constructor(
    readonly code: 'ack-link-invalid' | 'ack-link-expired',
    message: string,
  ) {
    super(message);
  }
}

/** HMAC-SHA256 truncated to 128 bits: short enough for an SMS link, far beyond guessing. */
const mac = (payload: string, secret: string | Buffer) =>
  createHmac('sha256', secret).update(payload).digest().subarray(0, 16);

/** `who` names the recipient the link was sent to (its route), for the audit trail. */
export function signAck(pageId: string, expiresAt: Date, secret: string | Buffer, who = 'link'): string {
  const payload = Buffer.from(
    JSON.stringify({ p: pageId, w: who, e: Math.floor(expiresAt.getTime() / 1000) }),
  ).toString('base64url');
  return `${payload}.${mac(payload, secret).toString('base64url')}`;
}

export function verifyAck(
  token: string,
  secret: string | Buffer,
  now: Date,
): { pageId: string; who: string } {
  const invalid = () => new AckLinkError('ack-link-invalid', 'query.token: not an acknowledgement link');
  const [payload, signature] = token.split('.');
  if (!payload || !signature) throw invalid();
  const expected = mac(payload, secret);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
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
