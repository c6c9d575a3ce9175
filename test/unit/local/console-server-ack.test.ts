import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsoleServer, type ConsoleServer } from '../../../local/console-server.ts';
import type { LocalSystem } from '../../../local/local-system.ts';
import { ackSystem } from '../../helpers/memory-ack-pages.ts';

/**
 * Local mode's acknowledgement over HTTP: the console server in front of the real router, as a person's
 * browser (or a link scanner) reaches it from a page's link. The pages are in memory
 * (test/helpers/memory-ack-pages.ts); the routes, the server's edges and the headers are the real ones.
 */

let server: ConsoleServer;
const s = ackSystem();
const settled: string[] = [];

beforeAll(async () => {
  const system = {
    api: s.deps,
    settle: async () => void settled.push('settle'),
    onMessage: () => () => {},
    tick: async () => {},
    replay: async () => {
      throw new Error('not in this test');
    },
    stop: async () => {},
  } as unknown as LocalSystem;
  server = await startConsoleServer(system, 0);
}, 120_000);
afterAll(async () => server?.close());

const at = (path: string) => new URL(path, server.url).toString();
const formToken = (html: string) =>
  /<input type="hidden" name="token" value="([^"]*)">/.exec(html)?.[1]?.replace(/&amp;/g, '&');

describe('the local console server’s acknowledgement pages', () => {
  it('HEAD and GET of the link change nothing; the page’s form POST acknowledges once; a replay is refused', async () => {
    const token = s.link();
    const link = at(`api/ack?token=${encodeURIComponent(token)}`);
    // A mail scanner's HEAD: no route (and so not public: sign in first, as API Gateway refuses a method
    // it does not have); a chat unfurl's GET: the confirmation page. Neither acknowledges.
    expect((await fetch(link, { method: 'HEAD' })).status).toBe(401);
    const page = await fetch(link);
    expect(page.status).toBe(200);
    // The route's headers reach the browser: no framing, no referrer (the URL holds the token).
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('content-security-policy')).toContain("form-action 'self'");
    const html = await page.text();
    expect(html).toContain('<form method="post" action="ack">');
    expect(s.writes).toEqual([]);
    expect(s.next()).toBe('page');
    // The form, as the browser posts it: same origin, a form body with the hidden token.
    const post = (t: string) =>
      fetch(at('api/ack'), {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          origin: new URL(server.url).origin,
        },
        body: new URLSearchParams({ token: t }).toString(),
      });
    const acked = await post(formToken(html)!);
    expect(acked.status).toBe(200);
    expect(await acked.text()).toContain('acknowledged (link:sms:primary');
    expect(s.next()).toBe('acknowledged');
    expect(settled).toEqual(['settle']);
    const replay = await post(token);
    expect(replay.status).toBe(409);
    expect(replay.headers.get('x-ack-refusal')).toBe('ack-link-replayed');
    expect(s.writes).toHaveLength(1);
  });

  it('a cross-site form POST of a link is refused before it is read', async () => {
    const r = await fetch(at('api/ack'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: new URLSearchParams({ token: s.link() }).toString(),
    });
    expect(r.status).toBe(403);
    expect(s.writes).toHaveLength(1); // still the one acknowledgement of the first test
  });
});
