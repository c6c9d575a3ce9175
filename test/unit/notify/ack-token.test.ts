import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../../functions/api/routes.ts';
import { ACK_KEY_REFRESH_MS, ackKeyring } from '../../../functions/lib/secrets.ts';
import { AckRefusedError } from '../../../shared/errors.ts';
import {
  ackKid,
  foreignRecipient,
  linkActor,
  recipientOf,
  signAck,
  tokenKid,
  decodeAckClaims,
  encodeAckClaims,
  type AckClaims,
  verifyAck,
  type AckRecipient,
} from '../../../shared/notify/ack-token.ts';
import { notificationPolicySchema } from '../../../shared/notify/policy.ts';
import { callApi } from '../../helpers/api-call.ts';

const EXPIRES = new Date('2026-11-24T14:00:00Z');
const BEFORE = new Date('2026-11-24T13:00:00Z');
const code = (f: () => unknown) => {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (!(e instanceof AckRefusedError)) throw e;
    return e.code;
  }
};
const PRIMARY: AckRecipient = { route: 'primary-sms', channel: 'sms', address: '+447700900101' };
const link = (pageId: string, secret: string, recipient = PRIMARY, expiresAt = EXPIRES) =>
  signAck({ pageId, recipient, expiresAt }, secret);
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
/** The same payload with some claims changed (and so a signature that no longer fits it). */
const altered = (payload: string, change: Partial<AckClaims>) =>
  encodeAckClaims({ ...decodeAckClaims(payload)!, ...change });

describe('acknowledgement links carry the id of the key that signed them', () => {
  it('rotation: a link signed with the previous key verifies until it expires; a retired key’s does not', () => {
    const token = link('page-1', 'key-one');
    expect(tokenKid(token)).toBe(ackKid('key-one'));
    expect(ackKid('key-one')).not.toBe(ackKid('key-two'));
    // After one rotation the keys are [current, previous]: the link still works.
    expect(verifyAck(token, ['key-two', 'key-one'], BEFORE)).toMatchObject({
      pageId: 'page-1',
      route: 'primary-sms',
      channel: 'sms',
      expiresAt: EXPIRES,
    });
    // After the next rotation key-one is gone: refused as not verifying, not mistaken for another key's link.
    expect(code(() => verifyAck(token, ['key-three', 'key-two'], BEFORE))).toBe('ack-link-tampered');
    expect(code(() => verifyAck(token, ['key-two', 'key-one'], new Date(EXPIRES.getTime() + 1000)))).toBe(
      'ack-link-expired',
    );
  });

  it('links of the earlier formats (reusable: no nonce, no recipient binding) are refused as not links', () => {
    const legacy = b64({ p: 'page-2', w: 'link', e: 9e9 });
    expect(code(() => verifyAck(`${legacy}.AAAAAAAAAAAAAAAAAAAAAA`, ['key-one'], BEFORE))).toBe(
      'ack-link-invalid',
    );
    expect(
      code(() => verifyAck(`${legacy}.AAAAAAAAAAAAAAAAAAAAAA.${ackKid('key-one')}`, ['key-one'], BEFORE)),
    ).toBe('ack-link-invalid');
  });

  it('every link has a nonce of its own: two links to the same recipient for the same page differ', () => {
    const a = verifyAck(link('page-1', 'key-one'), 'key-one', BEFORE);
    const b = verifyAck(link('page-1', 'key-one'), 'key-one', BEFORE);
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.nonce).toMatch(/^[A-Za-z0-9_-]{12}$/);
  });

  it('a link stays short for SMS: under 100 characters for a page of the dispatcher', () => {
    const token = link('ab'.repeat(12), 'k'.repeat(48));
    expect(token.length).toBeLessThan(100);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{8}$/);
  });

  it('property: the claims survive encoding exactly; a payload cut short or extended is not a link', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ minLength: 12, maxLength: 12 }).map((b) => Buffer.from(b).toString('hex')),
          fc.string({ minLength: 1, maxLength: 20 }),
        ),
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.constantFrom('sms', 'email', 'telegram', 'webhook', 'websocket' as const),
        fc.uint8Array({ minLength: 9, maxLength: 9 }),
        fc.integer({ min: 1, max: 2 ** 32 - 1 }),
        (pageId, route, channel, nonce, expires) => {
          fc.pre(Buffer.byteLength(pageId) <= 64);
          const claims: AckClaims = {
            pageId,
            route,
            channel,
            fingerprint: 'AAAAAAAA',
            nonce: Buffer.from(nonce).toString('base64url'),
            expires,
          };
          const payload = encodeAckClaims(claims);
          expect(decodeAckClaims(payload)).toEqual(claims);
          const bytes = Buffer.from(payload, 'base64url');
          expect(decodeAckClaims(bytes.subarray(0, -1).toString('base64url'))).toBeNull();
          expect(decodeAckClaims(Buffer.concat([bytes, Buffer.from([1])]).toString('base64url'))).toBeNull();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a forged key id, a tampered payload or a foreign key is refused by name', () => {
    const token = link('page-3', 'key-one');
    const [payload, mac, kid] = token.split('.') as [string, string, string];
    expect(code(() => verifyAck(`${payload}.${mac}.${ackKid('key-two')}`, ['key-two'], BEFORE))).toBe(
      'ack-link-tampered',
    );
    // The same signature over another page, another recipient, a later expiry: tampered.
    const changes: Partial<AckClaims>[] = [
      { pageId: 'page-4' },
      { route: 'head-of-risk', channel: 'email' },
      { expires: 4e9 },
      { nonce: 'AAAAAAAAAAAA' },
    ];
    for (const change of changes) {
      const other = altered(payload, change);
      expect(code(() => verifyAck(`${other}.${mac}.${kid}`, ['key-one'], BEFORE))).toBe('ack-link-tampered');
    }
    // Not a link at all: cut short, garbage, an extra part, a payload with a key it does not define.
    expect(code(() => verifyAck('not a link', ['key-one'], BEFORE))).toBe('ack-link-invalid');
    expect(code(() => verifyAck(`${payload}.${mac}`, ['key-one'], BEFORE))).toBe('ack-link-invalid');
    expect(code(() => verifyAck(`${payload}.${mac}.${kid}.x`, ['key-one'], BEFORE))).toBe('ack-link-invalid');
    const extra = Buffer.concat([Buffer.from(payload, 'base64url'), Buffer.from([0])]).toString('base64url');
    expect(code(() => verifyAck(`${extra}.${mac}.${kid}`, ['key-one'], BEFORE))).toBe('ack-link-invalid');
  });

  it('property: a link verifies exactly when the key that signed it is among the keys given', () => {
    const secret = fc.string({ minLength: 16, maxLength: 48 });
    fc.assert(
      fc.property(
        secret,
        fc.array(secret, { maxLength: 3 }),
        fc.boolean(),
        fc.string({ minLength: 1, maxLength: 24 }),
        (signer, others, include, pageId) => {
          fc.pre(!others.includes(signer));
          const token = link(pageId, signer);
          const keys = include ? [...others, signer] : others;
          expect(code(() => verifyAck(token, keys, BEFORE))).toBe(include ? 'ok' : 'ack-link-tampered');
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('a link is bound to the recipient and channel it was sent to', () => {
  const policy = (primary: Record<string, unknown>) =>
    notificationPolicySchema.parse({
      routes: [
        primary.channel
          ? { name: 'primary-sms', ...primary }
          : { name: 'primary-sms', channel: 'sms', phoneNumber: '+447700900101', ...primary },
        { name: 'desk', channel: 'telegram', chatId: '-100' },
      ],
      rules: [{ categories: ['warning'], routes: ['desk'] }],
      onCall: [{ tier: 'primary', routes: ['primary-sms'] }],
    });

  it('the audit names the recipient and channel, never the address', () => {
    const claim = verifyAck(link('page-1', 'key-one'), 'key-one', BEFORE);
    expect(linkActor(claim)).toBe('link:sms:primary-sms');
    expect(Buffer.from(link('page-1', 'key-one').split('.')[0]!, 'base64url').toString()).not.toContain(
      '7700900101',
    );
  });

  it('the route in force, same channel and address, on the ladder: accepted; otherwise foreign', () => {
    const claim = verifyAck(link('page-1', 'key-one'), ['key-two', 'key-one'], BEFORE);
    expect(foreignRecipient(claim, policy({}))).toBeNull();
    expect(claim.sentTo(recipientOf(policy({}).routes[0]!))).toBe(true);
    // The number now on the route is another person's: the link went to someone else.
    expect(foreignRecipient(claim, policy({ phoneNumber: '+447700900999' }))?.code).toBe(
      'ack-link-foreign-recipient',
    );
    // The route now reaches another channel.
    expect(foreignRecipient(claim, policy({ channel: 'email', address: 'p@broker.example' }))?.code).toBe(
      'ack-link-foreign-recipient',
    );
    // A route that is not on the on-call ladder (never sent links), or no route of that name.
    const desk = verifyAck(
      link('page-1', 'key-one', { route: 'desk', channel: 'telegram', address: '-100' }),
      'key-one',
      BEFORE,
    );
    expect(foreignRecipient(desk, policy({}))?.code).toBe('ack-link-foreign-recipient');
    const gone = verifyAck(
      link('page-1', 'key-one', { ...PRIMARY, route: 'left-the-firm' }),
      'key-one',
      BEFORE,
    );
    expect(foreignRecipient(gone, policy({}))?.code).toBe('ack-link-foreign-recipient');
  });

  it('e-mail addresses compare without case', () => {
    const r = recipientOf({ name: 'hor', channel: 'email', address: 'Head.Of.Risk@Broker.example' });
    expect(r).toEqual({ route: 'hor', channel: 'email', address: 'head.of.risk@broker.example' });
  });
});

describe('the API’s keyring across a rotation (functions/lib/secrets.ts ackKeyring, GET /ack)', () => {
  /** Secrets Manager as a container sees it: versions it read stay cached until forced. */
  function rotatingSecret() {
    const versions = ['key-one'];
    /** Reads that went to Secrets Manager (not answered from the cache). */
    const fetched = { count: 0 };
    let cached: { current: string; previous: string | null } | null = null;
    const read = (force: boolean) => {
      if (!cached || force) {
        fetched.count += 1;
        cached = { current: versions.at(-1)!, previous: versions.at(-2) ?? null };
      }
      return cached;
    };
    return {
      versions,
      fetched,
      /** The cache's max age has passed. */
      expire: () => (cached = null),
      secrets: {
        get: async (_name: string, o: { forceFetch?: boolean } = {}) => read(o.forceFetch ?? false).current,
        previous: async () => read(false).previous,
      },
    };
  }
  const policy = notificationPolicySchema.parse({
    routes: [{ name: 'primary-sms', channel: 'sms', phoneNumber: '+447700900101' }],
    rules: [{ categories: ['warning'], routes: ['primary-sms'] }],
    onCall: [{ tier: 'primary', routes: ['primary-sms'] }],
  });
  const api = (ackSecret: ApiDeps['pages']['ackSecret']) =>
    ({
      pages: {
        ackSecret,
        store: {
          page: async (pageId: string) => ({
            pageId,
            alertId: 'a',
            accountId: 'A1',
            incidentId: null,
            createdAt: BEFORE.toISOString(),
            tier: 0,
            attempt: 1,
            ackedBy: null,
            ackedAt: null,
          }),
          linkUse: async () => null,
        },
      },
      notificationPolicy: async () => policy,
      now: () => BEFORE,
    }) as unknown as ApiDeps;

  it('a link signed before the rotation, and one signed by a container that saw it first, both open the confirmation page', async () => {
    const s = rotatingSecret();
    const keyring = ackKeyring(s.secrets, 'ack', () => 0);
    const oldLink = link('page-1', 'key-one');
    expect((await callApi(api(keyring), 'GET', '/ack', { query: { token: oldLink } })).status).toBe(200);
    // Rotated: another container signs with key-two while this one still has key-one cached.
    s.versions.push('key-two');
    const newLink = link('page-2', 'key-two');
    expect((await callApi(api(keyring), 'GET', '/ack', { query: { token: newLink } })).status).toBe(200);
    expect((await callApi(api(keyring), 'GET', '/ack', { query: { token: oldLink } })).status).toBe(200);
    // Rotated again: key-one is retired, its links are refused (403), key-two's still work.
    s.versions.push('key-three');
    s.expire();
    expect((await callApi(api(keyring), 'GET', '/ack', { query: { token: oldLink } })).status).toBe(403);
    expect((await callApi(api(keyring), 'GET', '/ack', { query: { token: newLink } })).status).toBe(200);
  });

  it('forged key ids make it re-read the keys at most once per ACK_KEY_REFRESH_MS', async () => {
    const s = rotatingSecret();
    let clock = 0;
    const keyring = ackKeyring(s.secrets, 'ack', () => clock);
    const [payload, mac] = link('page-1', 'key-one').split('.');
    for (let i = 0; i < 20; i++) {
      const forged = `${payload}.${mac}.forged${i}`;
      expect((await callApi(api(keyring), 'GET', '/ack', { query: { token: forged } })).status).toBe(403);
    }
    expect(s.fetched.count).toBe(2); // the first read, and one re-read for the first unknown key id
    clock += ACK_KEY_REFRESH_MS;
    await keyring(`${payload}.${mac}.forgedAgain`);
    expect(s.fetched.count).toBe(3);
  });
});
