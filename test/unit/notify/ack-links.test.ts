import { describe, expect, it } from 'vitest';
import {
  decodeAckClaims,
  encodeAckClaims,
  signAck,
  type AckClaims,
} from '../../../shared/notify/ack-token.ts';
import {
  ackSystem as system,
  basePolicy,
  EXPIRES,
  PAGE,
  PRIMARY,
  SENT,
} from '../../helpers/memory-ack-pages.ts';

/**
 * The acknowledgement suite at unit level: the public /ack routes through the real router, over an
 * in-memory page store with the DynamoDB store's semantics (test/helpers/memory-ack-pages.ts).
 * test/integration/ack.dynamodb-local.test.ts runs the same on DynamoDB Local with the real dispatcher's
 * ladder; test/unit/local/console-server-ack.test.ts through the local console server over HTTP.
 */

/** The form's hidden token, as a browser would submit it (HTML entities decoded). */
const formToken = (html: string) =>
  /<input type="hidden" name="token" value="([^"]*)">/
    .exec(html)?.[1]
    ?.replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');
const refusalOf = (r: { headers: Record<string, unknown>; body: string }) => ({
  header: r.headers['x-ack-refusal'],
  body: /data-refusal="([^"]+)"/.exec(r.body)?.[1],
});

describe('one-click acknowledgement: a GET opens a confirmation page, the POST from it acknowledges once', () => {
  it('GET never acknowledges: it shows the page and a form carrying the token; nothing is written', async () => {
    const s = system();
    const token = s.link();
    for (let i = 0; i < 3; i++) {
      const r = await s.call('GET', '/ack', { token });
      expect(r.status).toBe(200);
      expect(r.body).toContain('Acknowledge this page?');
      expect(r.body).toContain('<form method="post" action="ack">');
      expect(formToken(r.body)).toBe(token);
      // What the page shows is escaped (the headline came from data).
      expect(r.body).toContain('&lt;b&gt;(ratio 1.02)&lt;/b&gt;');
      expect(r.body).not.toContain('<b>(ratio');
      // No script, no framing, no referrer (the URL holds the token), no caching.
      expect(r.headers).toMatchObject({
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
      });
      expect(String(r.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
    }
    expect(s.writes).toEqual([]);
    expect(s.page().ackedBy).toBeNull();
    expect(s.audit).toEqual([]);
    // The ladder keeps climbing: the next rung pages the secondary.
    expect(s.next()).toBe('page');
  });

  it('HEAD (a link scanner, an unfurl) is not a route: 405, and nothing changes', async () => {
    const s = system();
    const r = await s.call('HEAD', '/ack', { token: s.link() });
    expect(r.status).toBe(405);
    expect(s.writes).toEqual([]);
    expect(s.next()).toBe('page');
  });

  it('the POST from the page acknowledges, once, as the recipient and channel the link went to', async () => {
    const s = system();
    const page = await s.call('GET', '/ack', { token: s.link() });
    const token = formToken(page.body)!;
    const r = await s.post(token);
    expect(r.status).toBe(200);
    expect(r.body).toContain('Page for account A1 acknowledged (link:sms:primary, 2026-11-24T13:00:00.000Z)');
    expect(s.page()).toMatchObject({ ackedBy: 'link:sms:primary', ackedAt: SENT.toISOString() });
    expect(s.next()).toBe('acknowledged');
    expect(s.audit).toMatchObject([
      {
        accountId: 'A1',
        incidentId: 'A1:risk:1',
        action: 'page-acknowledged',
        actor: 'link:sms:primary',
        details: { pageId: PAGE, tier: 0, attempt: 1, via: 'link', route: 'primary', channel: 'sms' },
      },
    ]);
    // The address itself is in no audit entry.
    expect(JSON.stringify(s.audit)).not.toContain('7700900101');
    // The same form again (a double click, a resubmit, a replay): refused by name, nothing written.
    const again = await s.post(token);
    expect(again.status).toBe(409);
    expect(refusalOf(again)).toEqual({ header: 'ack-link-replayed', body: 'ack-link-replayed' });
    expect(again.body).toContain('used already (link:sms:primary');
    expect(s.writes).toHaveLength(1);
    expect(s.audit).toHaveLength(1);
    // And the link opened again says so too, without a form.
    const reopened = await s.call('GET', '/ack', { token });
    expect(reopened.status).toBe(409);
    expect(formToken(reopened.body)).toBeUndefined();
  });

  it('a form body sent base64-encoded by API Gateway is read the same', async () => {
    const s = system();
    expect((await s.post(s.link(), true)).status).toBe(200);
    expect(s.page().ackedBy).toBe('link:sms:primary');
  });

  it('a page acknowledged already: the link says who did, and stays unspent', async () => {
    const s = system();
    await s.post(s.link());
    const other = s.link({ route: 'primary', channel: 'sms', address: '+447700900101' });
    const shown = await s.call('GET', '/ack', { token: other });
    expect(shown.status).toBe(200);
    expect(shown.body).toContain('was acknowledged by link:sms:primary');
    expect(formToken(shown.body)).toBeUndefined();
    const posted = await s.post(other);
    expect(posted.status).toBe(200);
    expect(posted.body).toContain('Already acknowledged by link:sms:primary');
    expect(s.writes).toHaveLength(1);
  });

  it('an expired link is refused by name (GET and POST); the ladder keeps climbing', async () => {
    const s = system();
    const token = s.link(PRIMARY, new Date(SENT.getTime() + 5 * 60_000));
    s.setNow(new Date(SENT.getTime() + 6 * 60_000));
    for (const r of [await s.call('GET', '/ack', { token }), await s.post(token)]) {
      expect(r.status).toBe(410);
      expect(refusalOf(r)).toEqual({ header: 'ack-link-expired', body: 'ack-link-expired' });
    }
    expect(s.writes).toEqual([]);
    expect(s.next()).toBe('page');
  });

  it('a foreign recipient is refused by name: a route off the ladder, or one that now reaches someone else', async () => {
    const s = system();
    // Signed with the right key, for a route that is not on the on-call ladder (never sent a link).
    const desk = s.link({ route: 'desk', channel: 'telegram', address: '-100' });
    // Sent to the primary's number, which has since been given to someone else's route.
    const primary = s.link();
    s.setPolicy({
      ...basePolicy,
      routes: [
        { name: 'primary', channel: 'sms', phoneNumber: '+447700900199' },
        ...basePolicy.routes.slice(1),
      ],
    });
    for (const token of [desk, primary])
      for (const r of [await s.call('GET', '/ack', { token }), await s.post(token)]) {
        expect(r.status).toBe(403);
        expect(refusalOf(r)).toEqual({
          header: 'ack-link-foreign-recipient',
          body: 'ack-link-foreign-recipient',
        });
      }
    expect(s.writes).toEqual([]);
    expect(s.next()).toBe('page');
  });

  it('a tampered link is refused by name; so is one that is no link at all', async () => {
    const s = system();
    const [payload, mac, kid] = s.link().split('.') as [string, string, string];
    const claims = decodeAckClaims(payload)!;
    const altered = (change: Partial<AckClaims>) => encodeAckClaims({ ...claims, ...change });
    const tampered = [
      // Another page, a later expiry, another nonce (to get round single use), a flipped signature.
      `${altered({ pageId: 'cd'.repeat(12) })}.${mac}.${kid}`,
      `${altered({ expires: claims.expires + 86_400 })}.${mac}.${kid}`,
      `${altered({ nonce: 'AAAAAAAAAAAA' })}.${mac}.${kid}`,
      `${payload}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BA' : 'AA'}.${kid}`,
      // Signed with a key that is not in force.
      signAck({ pageId: PAGE, recipient: PRIMARY, expiresAt: EXPIRES }, 'someone-elses-key'),
    ];
    for (const token of tampered)
      for (const r of [await s.call('GET', '/ack', { token }), await s.post(token)]) {
        expect(r.status).toBe(403);
        expect(refusalOf(r).header).toBe('ack-link-tampered');
      }
    for (const token of ['', 'garbage', `${payload}.${mac}`]) {
      const r = await s.call('GET', '/ack', { token });
      expect(r.status).toBe(400);
      expect(refusalOf(r).header).toBe('ack-link-invalid');
    }
    expect(s.writes).toEqual([]);
    expect(s.next()).toBe('page');
  });

  it('the POST takes the token from the form body only, strictly', async () => {
    const s = system();
    // A token in the query string of a POST (a link followed by a scanner that POSTs) is not a form.
    const r = await s.call('POST', '/ack', { token: s.link(), form: '' });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body)).toMatchObject({ issues: [{ field: 'body.token', message: 'required' }] });
    const extra = await s.call('POST', '/ack', {
      form: new URLSearchParams({ token: s.link(), by: 'someone' }).toString(),
    });
    expect(extra.status).toBe(400);
    expect(JSON.parse(extra.body).issues).toMatchObject([{ field: 'body.by' }]);
    expect(s.writes).toEqual([]);
    expect(s.next()).toBe('page');
  });

  it('the console and POST /pages/{id}/ack record the signed-in person, not a link', async () => {
    const s = system();
    const r = await s.call('POST', '/pages/{id}/ack', { id: PAGE });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({
      first: true,
      ackedBy: 'api:arn:aws:iam::123456789012:user/olivia',
    });
    expect(s.audit).toMatchObject([
      {
        action: 'page-acknowledged',
        actor: 'api:arn:aws:iam::123456789012:user/olivia',
        details: { pageId: PAGE, via: 'signed-in' },
      },
    ]);
    expect(s.next()).toBe('acknowledged');
    // A link for the page, opened afterwards, says who did it; no form.
    const shown = await s.call('GET', '/ack', { token: s.link() });
    expect(shown.body).toContain('was acknowledged by api:arn:aws:iam::123456789012:user/olivia');
    expect(formToken(shown.body)).toBeUndefined();
  });
});
