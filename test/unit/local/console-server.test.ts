import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEV_TOKEN_TTL_MS, startConsoleServer, type ConsoleServer } from '../../../local/console-server.ts';
import type { LocalSystem } from '../../../local/local-system.ts';

/**
 * The local console server's edges, with a stand-in system (no DynamoDB): the development login (JSON
 * only, this origin only, this host only, tokens that expire), body limits and JSON errors, and the
 * person the audit trail names.
 */
let server: ConsoleServer;
let t = Date.parse('2026-12-01T09:00:00Z');
const audit: { actor: string; action: string }[] = [];
let settleFails = false;
const system = {
  api: {
    stage: 'local',
    now: () => new Date(t),
    actions: {
      setHold: async () => {},
      audit: async (e: { actor: string; action: string }) => void audit.push(e),
    },
    repo: { getRiskState: async () => null },
  },
  tick: async () => {},
  settle: async () => {
    if (settleFails) throw new Error('stack trace with the request body: secret-ish');
  },
  onMessage: () => () => {},
} as unknown as LocalSystem;

beforeAll(async () => {
  server = await startConsoleServer(system, 0, '127.0.0.1', () => t);
}, 60_000);
afterAll(async () => server?.close());

const url = (path: string) => new URL(path, server.url).toString();
const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url(path), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
const login = async (user = 'olivia', role = 'operator') => {
  const res = await post('/dev/login', JSON.stringify({ user, role }));
  expect(res.status).toBe(200);
  return (await res.json()) as { token: string; expiresAt: string; user: string; role: string };
};
/** A raw request, with a Host of our choosing (DNS rebinding: the browser sends the attacker's name). */
const raw = (path: string, headers: Record<string, string>) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const u = new URL(server.url);
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET', headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });

describe('local console server', () => {
  it('binds to localhost only', async () => {
    await expect(startConsoleServer(system, 0, '0.0.0.0')).rejects.toThrow(/localhost only/);
  });

  it('the development login: a token that names the person and expires', async () => {
    const s = await login();
    expect(s).toMatchObject({ user: 'olivia', role: 'operator' });
    expect(Date.parse(s.expiresAt)).toBe(t + DEV_TOKEN_TTL_MS);
    const status = (token: string) =>
      fetch(url('/api/status'), { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
    expect(await status(s.token)).toBe(200);
    t += DEV_TOKEN_TTL_MS + 1;
    expect(await status(s.token)).toBe(401);
    expect(await status((await login()).token)).toBe(200);
  });

  it('CSRF: a cross-origin text/plain or form POST (no preflight) mints nothing', async () => {
    const body = JSON.stringify({ user: 'mallory', role: 'operator' });
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const res = await post('/dev/login', body, { 'content-type': type });
      expect(res.status).toBe(415);
      expect(await res.json()).toMatchObject({ error: 'unsupported-media-type' });
    }
    const foreign = await post('/dev/login', body, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({ error: 'origin-not-allowed' });
    const crossSite = await post('/dev/login', body, { 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    expect((await post('/dev/login', body, { origin: new URL(server.url).origin })).status).toBe(200);
    // A GET changes nothing: a link followed from a mail or a chat (cross-site) still opens.
    const followed = await fetch(url('/config.json'), { headers: { 'sec-fetch-site': 'cross-site' } });
    expect(followed.status).toBe(200);
    // A form to the API (other than a public route's own page) is refused like the login's.
    const { token } = await login();
    const form = await post('/api/accounts/A1/hold', 'reason=csrf', {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Bearer ${token}`,
    });
    expect(form.status).toBe(415);
  });

  it('DNS rebinding: a Host that is not this server is refused, on every path and the WebSocket', async () => {
    const port = new URL(server.url).port;
    expect((await raw('/config.json', { host: `evil.example:${port}` })).status).toBe(403);
    expect((await raw('/config.json', { host: `127.0.0.1:${Number(port) + 1}` })).status).toBe(403);
    expect(JSON.parse((await raw('/', { host: `evil.example:${port}` })).body)).toMatchObject({
      error: 'host-not-allowed',
    });
    expect((await raw('/config.json', { host: `localhost:${port}` })).status).toBe(200);
    const ws = await raw(`/ws?token=x`, {
      host: `evil.example:${port}`,
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-version': '13',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    }).catch((e: Error) => ({ status: 0, body: e.message }));
    expect(ws.status === 403 || ws.status === 0).toBe(true);
  });

  it('bodies: too large is a 413 naming the limit; malformed JSON a 400 naming the body, no parser echo', async () => {
    const big = await post('/dev/login', JSON.stringify({ user: 'x'.repeat(400 * 1024), role: 'viewer' }));
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({
      error: 'body-too-large',
      message: expect.stringMatching(/262144/),
    });
    const broken = await post('/dev/login', '{"user": "olivia", "role": <script>');
    expect(broken.status).toBe(400);
    const body = await broken.json();
    expect(body).toMatchObject({
      error: 'invalid-input',
      issues: [{ field: 'body', message: 'not valid JSON' }],
    });
    expect(JSON.stringify(body)).not.toMatch(/script|Unexpected token|position/);
    const { token } = await login();
    const api = await post('/api/accounts/A1/hold', '{"reason":', { authorization: `Bearer ${token}` });
    expect(api.status).toBe(400);
    expect(await api.json()).toEqual({
      error: 'invalid-input',
      issues: [{ field: 'body', message: 'not valid JSON' }],
    });
  });

  it('the audit trail names the person of the login, whatever the body says', async () => {
    const { token } = await login('olivia');
    const auth = { authorization: `Bearer ${token}` };
    const forged = await post(
      '/api/accounts/A1/hold',
      JSON.stringify({ reason: 'x'.repeat(5), actor: 'ceo' }),
      auth,
    );
    expect(forged.status).toBe(400);
    const res = await post(
      '/api/accounts/A1/hold',
      JSON.stringify({ reason: 'client is wiring funds' }),
      auth,
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ by: 'olivia (dev:olivia)' });
    expect(audit.at(-1)).toMatchObject({ action: 'hold', actor: 'olivia (dev:olivia)' });
    const viewer = await login('victor', 'viewer');
    const refused = await post('/api/accounts/A1/hold', JSON.stringify({ reason: 'sneaky' }), {
      authorization: `Bearer ${viewer.token}`,
    });
    expect(refused.status).toBe(403);
  });

  it('an unexpected failure is a 500 that does not echo what failed', async () => {
    const { token } = await login();
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    settleFails = true;
    try {
      const res = await post('/api/accounts/A1/hold', JSON.stringify({ reason: 'wire in flight' }), {
        authorization: `Bearer ${token}`,
      });
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ error: 'internal', message: 'unexpected failure; it was logged' });
      expect(error).toHaveBeenCalled();
    } finally {
      settleFails = false;
      error.mockRestore();
    }
  });
});
