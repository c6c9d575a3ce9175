import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AckRefusedError } from '../errors.ts';
import { CHANNEL_KINDS, type ChannelKind, type Route } from './policy.ts';

/**
 * One-click acknowledgement links. A link is a signed claim (HMAC-SHA256): this page, sent to this
 * recipient (route, channel and a keyed fingerprint of the address), once (a random nonce), until this
 * expiry. Opening it never acknowledges anything: it shows a confirmation page whose form POSTs the token,
 * and that POST consumes the nonce (once) and acknowledges the page (functions/lib/ack-links.ts).
 *
 * A link names the key that signed it (its third part, the key id), so the signing secret can be rotated
 * without voiding the links already sent: verification is given the current and the previous keys and uses
 * the one the link names.
 */

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

/** The key id a link names (unverified: it only picks the key to check with); null when it names none. */
export function tokenKid(token: string): string | null {
  const parts = token.split('.');
  return parts.length === 3 && parts[2] ? parts[2] : null;
}

/** Whom a link is sent to: a route of the policy, its channel and its address (null: webhook, console). */
export interface AckRecipient {
  route: string;
  channel: ChannelKind;
  address: string | null;
}

/** A policy route as the recipient of a link. */
export function recipientOf(route: Route): AckRecipient {
  const address =
    route.channel === 'sms'
      ? route.phoneNumber
      : route.channel === 'email'
        ? route.address.toLowerCase()
        : route.channel === 'telegram'
          ? route.chatId
          : null;
  return { route: route.name, channel: route.channel, address };
}

/**
 * The address's fingerprint in a link: keyed with the signing key, so a link (which anyone holding it can
 * read) does not give away a phone number by brute force, yet the route's address in force can be checked
 * against it. 48 bits.
 */
const fingerprint = (address: string | null, secret: string | Buffer) =>
  createHmac('sha256', secret)
    .update('margin-guard/ack-recipient\u0000')
    .update(address ?? '')
    .digest()
    .subarray(0, 6)
    .toString('base64url');

/**
 * What a link claims, as signed. Binary, to keep an SMS link short (about 95 characters for a page id of
 * the dispatcher's and a route name of a dozen characters): version 3; the page id (its length, with the
 * top bit set when it is hex and sent as bytes); the route name (2-byte length, UTF-8); the channel (its
 * index in CHANNEL_KINDS); the address fingerprint (6 bytes); the nonce (9 bytes); the expiry (Unix
 * seconds, 4 bytes). Every byte is accounted for: anything else is not a link.
 */
export interface AckClaims {
  pageId: string;
  route: string;
  channel: ChannelKind;
  /** The address's keyed fingerprint, 8 base64url characters. */
  fingerprint: string;
  /** What single use is recorded against: 12 base64url characters (9 bytes). */
  nonce: string;
  /** Unix seconds. */
  expires: number;
}

const VERSION = 3;
const HEX_ID = /^(?:[0-9a-f]{2}){1,32}$/;

/** The claims as a link's (unsigned) payload. */
export function encodeAckClaims(c: AckClaims): string {
  const hex = HEX_ID.test(c.pageId);
  const page = hex ? Buffer.from(c.pageId, 'hex') : Buffer.from(c.pageId, 'utf8');
  const route = Buffer.from(c.route, 'utf8');
  if (page.length < 1 || page.length > 64 || route.length < 1 || route.length > 0xffff)
    throw new RangeError('ack link: page id of 1–64 bytes and a route name of 1–65535 bytes');
  const fingerprintBytes = Buffer.from(c.fingerprint, 'base64url');
  const nonce = Buffer.from(c.nonce, 'base64url');
  if (fingerprintBytes.length !== 6 || nonce.length !== 9)
    throw new RangeError('ack link: a 6-byte fingerprint and a 9-byte nonce');
  const head = Buffer.from([VERSION, (hex ? 0x80 : 0) | page.length]);
  const routeLength = Buffer.alloc(2);
  routeLength.writeUInt16BE(route.length);
  const expires = Buffer.alloc(4);
  expires.writeUInt32BE(c.expires);
  return Buffer.concat([
    head,
    page,
    routeLength,
    route,
    Buffer.from([CHANNEL_KINDS.indexOf(c.channel)]),
    fingerprintBytes,
    nonce,
    expires,
  ]).toString('base64url');
}

/** A payload's claims (unverified), or null when it is not a payload of this format. */
export function decodeAckClaims(payload: string): AckClaims | null {
  if (!/^[A-Za-z0-9_-]+$/.test(payload)) return null;
  const b = Buffer.from(payload, 'base64url');
  if (b.toString('base64url') !== payload) return null; // one encoding per payload
  let at = 0;
  const take = (n: number) => {
    if (at + n > b.length) throw new RangeError('short');
    const out = b.subarray(at, at + n);
    at += n;
    return out;
  };
  try {
    if (take(1)[0] !== VERSION) return null;
    const pageHead = take(1)[0]!;
    const pageLength = pageHead & 0x7f;
    if (pageLength < 1 || pageLength > 64) return null;
    const pageBytes = take(pageLength);
    const pageId = pageHead & 0x80 ? pageBytes.toString('hex') : pageBytes.toString('utf8');
    const routeLength = take(2).readUInt16BE();
    if (routeLength < 1) return null;
    const route = take(routeLength).toString('utf8');
    const channel = CHANNEL_KINDS[take(1)[0]!];
    const fingerprint = take(6).toString('base64url');
    const nonce = take(9).toString('base64url');
    const expires = take(4).readUInt32BE();
    if (!channel || at !== b.length || expires === 0) return null;
    return { pageId, route, channel, fingerprint, nonce, expires };
  } catch {
    return null;
  }
}

export interface SignAckInput {
  pageId: string;
  recipient: AckRecipient;
  expiresAt: Date;
  /** Random unless given (tests): 9 bytes, 12 characters. */
  nonce?: string;
}

export function signAck(input: SignAckInput, secret: string | Buffer): string {
  const payload = encodeAckClaims({
    pageId: input.pageId,
    route: input.recipient.route,
    channel: input.recipient.channel,
    fingerprint: fingerprint(input.recipient.address, secret),
    nonce: input.nonce ?? randomBytes(9).toString('base64url'),
    expires: Math.floor(input.expiresAt.getTime() / 1000),
  });
  return `${payload}.${mac(payload, secret).toString('base64url')}.${ackKid(secret)}`;
}

/** A verified link: what it claims, and a check of a recipient against the one it was sent to. */
export interface AckClaim {
  pageId: string;
  route: string;
  channel: ChannelKind;
  /** Single use is recorded against it. */
  nonce: string;
  expiresAt: Date;
  /** True when `recipient` is the one the link was sent to (same route, channel and address). */
  sentTo(recipient: AckRecipient): boolean;
}

/** Who acknowledged through a link, for the audit trail: its recipient and channel (no address). */
export const linkActor = (claim: Pick<AckClaim, 'route' | 'channel'>) =>
  `link:${claim.channel}:${claim.route}`;

/**
 * Verifies a link against the keys in force, current first (e.g. [AWSCURRENT, AWSPREVIOUS]), with the key
 * the link names. Refused with a named code: `ack-link-invalid` (not a link of this format),
 * `ack-link-tampered` (the signature does not verify: altered, forged, or its key retired),
 * `ack-link-expired`. Whether it was used already, and whether its recipient is the page's, the caller
 * decides against the store (functions/lib/ack-links.ts) and the policy (foreignRecipient).
 */
export function verifyAck(
  token: string,
  secrets: string | Buffer | readonly (string | Buffer)[],
  now: Date,
): AckClaim {
  const invalid = () =>
    new AckRefusedError('ack-link-invalid', 'token: not an acknowledgement link; acknowledge in the console');
  const keys = typeof secrets === 'string' || Buffer.isBuffer(secrets) ? [secrets] : secrets;
  const parts = token.split('.');
  const [payload, signature, kid] = parts;
  // Links of the earlier formats (no key id; JSON claims without a recipient or a nonce) are not accepted.
  if (parts.length !== 3 || !payload || !signature || !kid) throw invalid();
  const claim = decodeAckClaims(payload);
  if (!claim) throw invalid();
  const given = Buffer.from(signature, 'base64url');
  const key = keys
    .filter((k) => ackKid(k) === kid)
    .find((k) => {
      const expected = mac(payload, k);
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
  if (key === undefined)
    throw new AckRefusedError(
      'ack-link-tampered',
      'token: the link’s signature does not verify (altered, or signed by a retired key); acknowledge in the console',
    );
  if (now.getTime() / 1000 > claim.expires)
    throw new AckRefusedError('ack-link-expired', 'token: the link has expired; acknowledge in the console');
  return {
    pageId: claim.pageId,
    route: claim.route,
    channel: claim.channel,
    nonce: claim.nonce,
    expiresAt: new Date(claim.expires * 1000),
    sentTo: (r) =>
      r.route === claim.route &&
      r.channel === claim.channel &&
      fingerprint(r.address, key) === claim.fingerprint,
  };
}

/**
 * Whether a verified link may acknowledge its page under the policy in force: its recipient must still be
 * the route it was sent to (same channel and address) and on the on-call ladder (the only routes that are
 * sent links). Null when it may; the refusal otherwise. Single use is the store's (a conditional write).
 */
export function foreignRecipient(
  claim: Pick<AckClaim, 'route' | 'sentTo'>,
  policy: { routes: readonly Route[]; onCall: readonly { routes: readonly string[] }[] },
): AckRefusedError | null {
  const route = policy.routes.find((r) => r.name === claim.route);
  const onLadder = policy.onCall.some((t) => t.routes.includes(claim.route));
  if (route && onLadder && claim.sentTo(recipientOf(route))) return null;
  return new AckRefusedError(
    'ack-link-foreign-recipient',
    `token: this link was sent to a recipient who is not on route ${claim.route} of the on-call ladder any more; acknowledge in the console`,
  );
}
