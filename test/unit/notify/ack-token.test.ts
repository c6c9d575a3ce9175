import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../../functions/api/routes.ts';
import { ACK_KEY_REFRESH_MS, ackKeyring } from '../../../functions/lib/secrets.ts';
import { ackKid, AckLinkError, signAck, tokenKid, verifyAck } from '../../../shared/notify/ack-token.ts';
import { callApi } from '../../helpers/api-call.ts';

const EXPIRES = new Date('2026-11-24T14:00:00Z');
const BEFORE = new Date('2026-11-24T13:00:00Z');
const code = (f: () => unknown) => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return (e as AckLinkError).code;
  }
};

/** A link as signed before key ids existed: payload.mac, HMAC-SHA256 truncated to 128 bits. */
function legacyLink(pageId: string, expiresAt: Date, secret: string, who = 'link'): string {
  const payload = Buffer.from(
    JSON.stringify({ p: pageId, w: who, e: Math.floor(expiresAt.getTime() / 1000) }),
  ).toString('base64url');
  const mac = createHmac('sha256', secret).update(payload).digest().subarray(0, 16);
  return `${payload}.${mac.toString('base64url')}`;
}

describe('acknowledgement links carry the id of the key that signed them', () => {
  it('rotation: a link signed with the previous key verifies until it expires; a retired key’s does not', () => {
    const link = signAck('page-1', EXPIRES, 'key-one', 'link:primary-sms');
    expect(tokenKid(link)).toBe(ackKid('key-one'));
    expect(ackKid('key-one')).not.toBe(ackKid('key-two'));
    // After one rotation the keys are [current, previous]: the link still works.
    expect(verifyAck(link, ['key-two', 'key-one'], BEFORE)).toEqual({
      pageId: 'page-1',
      who: 'link:primary-sms',
    });
    // After the next rotation key-one is gone: refused, not mistaken for another key's link.
    expect(code(() => verifyAck(link, ['key-three', 'key-two'], BEFORE))).toBe('ack-link-invalid');
    expect(code(() => verifyAck(link, ['key-two', 'key-one'], new Date(EXPIRES.getTime() + 1000)))).toBe(
      'ack-link-expired',
    );
  });

  it('links sent before key ids (payload.mac) still verify against the current or previous key', () => {
    const old = legacyLink('page-2', EXPIRES, 'key-one');
    expect(tokenKid(old)).toBeNull();
    expect(verifyAck(old, ['key-two', 'key-one'], BEFORE)).toEqual({ pageId: 'page-2', who: 'link' });
    expect(verifyAck(old, 'key-one', BEFORE)).toEqual({ pageId: 'page-2', who: 'link' });
    expect(code(() => verifyAck(old, ['key-three', 'key-two'], BEFORE))).toBe('ack-link-invalid');
  });

  it('a forged key id, a tampered payload or a foreign key is refused', () => {
    const link = signAck('page-3', EXPIRES, 'key-one');
    const [payload, mac, kid] = link.split('.');
    expect(code(() => verifyAck(`${payload}.${mac}.${ackKid('key-two')}`, ['key-two'], BEFORE))).toBe(
      'ack-link-invalid',
    );
    const other = Buffer.from(JSON.stringify({ p: 'page-4', w: 'link', e: 9e9 })).toString('base64url');
    expect(code(() => verifyAck(`${other}.${mac}.${kid}`, ['key-one'], BEFORE))).toBe('ack-link-invalid');
    expect(code(() => verifyAck('not a link', ['key-one'], BEFORE))).toBe('ack-link-invalid');
    expect(code(() => verifyAck(`${payload}.${mac}.${kid}.x`, ['key-one'], BEFORE))).toBe('ack-link-invalid');
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
          const link = signAck(pageId, EXPIRES, signer);
          const keys = include ? [...others, signer] : others;
          expect(code(() => verifyAck(link, keys, BEFORE))).toBe(include ? 'ok' : 'ack-link-invalid');
        },
      ),
      { numRuns: 300 },
    );
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
  const api = (ackSecret: ApiDeps['pages']['ackSecret']) =>
    ({
      pages: {
        ackSecret,
        acknowledge: async (pageId: string, by: string) => ({
          pageId,
          accountId: 'A1',
          ackedBy: by,
          ackedAt: BEFORE.toISOString(),
          first: true,
        }),
      },
      now: () => BEFORE,
    }) as unknown as ApiDeps;

  it('a link signed before the rotation, and one signed by a container that saw it first, both acknowledge', async () => {
    const s = rotatingSecret();
    const keyring = ackKeyring(s.secrets, 'ack', () => 0);
    const oldLink = signAck('page-1', EXPIRES, 'key-one', 'link:primary');
    expect((await callApi(api(keyring), 'GET', '/ack', { query: { token: oldLink } })).status).toBe(200);
    // Rotated: another container signs with key-two while this one still has key-one cached.
    s.versions.push('key-two');
    const newLink = signAck('page-2', EXPIRES, 'key-two', 'link:primary');
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
    const [payload, mac] = signAck('page-1', EXPIRES, 'key-one').split('.');
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
