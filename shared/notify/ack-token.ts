import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
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

/** The signed payload (version 2): compact keys, every one required, nothing else allowed. */
const payloadSchema = z.strictObject({
  v: z.literal(2),
  /** Page id. */
  p: z.string().min(1).max(64),
  /** Route name, channel, the address's keyed fingerprint. */
  r: z.string().min(1).max(128),
  c: z.enum(CHANNEL_KINDS),
  a: z.string().regex(/^[A-Za-z0-9_-]{8}$/),
  /** Nonce: what single use is recorded against. */
  n: z.string().regex(/^[A-Za-z0-9_-]{12,24}$/),
  /** Expiry, Unix seconds. */
  e: z.number().int().positive(),
});

export interface SignAckInput {
  pageId: string;
  recipient: AckRecipient;
  expiresAt: Date;
  /** Random unless given (tests): 9 bytes, 12 characters. */
  nonce?: string;
}

export function signAck(input: SignAckInput, secret: string | Buffer): string {
  const payload = Buffer.from(
    JSON.stringify({
      v: 2,
      p: input.pageId,
      r: input.recipient.route,
      c: input.recipient.channel,
      a: fingerprint(input.recipient.address, secret),
      n: input.nonce ?? randomBytes(9).toString('base64url'),
      e: Math.floor(input.expiresAt.getTime() / 1000),
    }),
  ).toString('base64url');
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
 * decides against the store and the policy (refusalFor).
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
  // Links without a key id (the first format) or without a nonce are no longer accepted: they were reusable.
  if (parts.length !== 3 || !payload || !signature || !kid) throw invalid();
  let claim: z.output<typeof payloadSchema>;
  try {
    const parsed = payloadSchema.safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
    if (!parsed.success) throw invalid();
    claim = parsed.data;
  } catch {
    throw invalid();
  }
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
  if (now.getTime() / 1000 > claim.e)
    throw new AckRefusedError('ack-link-expired', 'token: the link has expired; acknowledge in the console');
  return {
    pageId: claim.p,
    route: claim.r,
    channel: claim.c,
    nonce: claim.n,
    expiresAt: new Date(claim.e * 1000),
    sentTo: (r) => r.route === claim.r && r.channel === claim.c && fingerprint(r.address, key) === claim.a,
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
