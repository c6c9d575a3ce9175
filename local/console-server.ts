import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { route } from '../functions/api/router.ts';
import { ROUTES } from '../functions/api/routes.ts';
import { broadcast } from '../functions/lib/broadcast.ts';
import type { Connection, ConnectionGateway } from '../functions/lib/connections.ts';
import { handleWebSocket, type WebSocketEvent } from '../functions/websocket/handler.ts';
import { z } from 'zod';
import { MAX_BODY_BYTES, parseBody } from '../functions/api/http.ts';
import { canCall, CONSOLE_ROLES, type Channel, type ConsoleRole } from '../shared/console/channels.ts';
import { InputError } from '../shared/errors.ts';
import { buildConsole } from '../infra/console-bundle.ts';
import type { LocalSystem } from './local-system.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
};

/** Route templates as patterns: /accounts/{id}/risk → ^/accounts/([^/]+)/risk$. */
const TEMPLATES = [...new Set(ROUTES.map((r) => r.path))].map((path) => ({
  path,
  pattern: new RegExp(`^${path.replace(/\{id\}/g, '([^/]+)')}$`),
}));

/** Routes that carry their own proof (signed ack links): no sign-in, as on AWS. */
const PUBLIC = new Set(ROUTES.filter((r) => r.public).map((r) => `${r.method} ${r.path}`));

/** The development login's body: strict, like every REST body (an unknown key is refused by name). */
const loginBody = z.strictObject({
  user: z.string({ error: 'required' }).regex(/^[A-Za-z0-9._-]{1,40}$/, '1–40 letters, digits, . _ -'),
  role: z.enum(CONSOLE_ROLES, { error: 'viewer or operator' }),
});
/** A manual tick (local mode only): an instrument and a positive decimal price. */
const tickBody = z.strictObject({
  instrument: z.string({ error: 'required' }).min(1, 'must not be empty'),
  price: z
    .string({ error: 'a decimal string like "410.25"' })
    .regex(/^\d+(\.\d+)?$/, 'a decimal string like "410.25"')
    .refine((p) => !/^[0.]+$/.test(p), 'must be greater than 0'),
});

/** A JSON body through its schema: a 400 naming every bad field (and a message the console shows). */
function devBody<S extends z.ZodType>(
  text: string,
  schema: S,
): { success: true; data: z.output<S> } | { success: false; error: object } {
  try {
    return { success: true, data: parseBody({ body: text || null }, schema) };
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return { success: false, error: { error: e.code, message: e.message, issues: e.issues } };
  }
}

interface DevPrincipal {
  user: string;
  role: ConsoleRole;
  /** When the token stops working (ms since the epoch). */
  exp: number;
}

/** How long a development login lasts: a working day. */
export const DEV_TOKEN_TTL_MS = 8 * 60 * 60 * 1000;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** A request the server refuses before reading it: a status and a named reason. */
class Refused extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ConsoleServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Local mode's console: the dashboard bundle, the REST routes through the real router and handlers, and
 * the live channels over a WebSocket fed by the local bus and streams. People sign in with a clearly
 * marked development login; its tokens are signed with a secret that lives only as long as the process,
 * and the same role rule as on AWS decides what each may call (viewers: GET only).
 */
export async function startConsoleServer(
  system: LocalSystem,
  port = 8080,
  host = '127.0.0.1',
  now: () => number = Date.now,
): Promise<ConsoleServer> {
  // Anyone who can reach the development login can sign in as anyone: it never listens beyond this machine.
  if (!LOOPBACK.has(host)) throw new Error(`the console server binds to localhost only, not ${host}`);
  const siteDir = buildConsole();
  const secret = randomBytes(32);
  const sign = (p: DevPrincipal) => {
    const payload = Buffer.from(JSON.stringify(p)).toString('base64url');
    return `${payload}.${createHmac('sha256', secret).update(payload).digest('base64url')}`;
  };
  const verify = (token: string | null | undefined): DevPrincipal | null => {
    const [payload, mac] = (token ?? '').split('.');
    if (!payload || !mac) return null;
    const expected = createHmac('sha256', secret).update(payload).digest();
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    const p = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as DevPrincipal;
    return typeof p.exp === 'number' && p.exp > now() ? p : null;
  };
  let actual = port;

  /**
   * DNS rebinding: the Host must be this machine's name for this server, on every request. Cross-site
   * requests: a browser's Origin (when it sends one) must be this server and Sec-Fetch-Site not
   * cross-site, for everything but a GET or HEAD (which change nothing: a link from a mail or a chat, an
   * acknowledgement link's confirmation page, still opens) and for the WebSocket.
   */
  const checkOrigin = (req: IncomingMessage, upgrade = false) => {
    const hostHeader = req.headers.host ?? '';
    const m = /^(\[::1\]|[^:]+):(\d+)$/.exec(hostHeader);
    if (!m || !LOOPBACK.has(m[1]!) || Number(m[2]) !== actual)
      throw new Refused(403, 'host-not-allowed', `Host ${hostHeader || '(none)'} is not this local server`);
    if (!upgrade && (req.method === 'GET' || req.method === 'HEAD')) return;
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${hostHeader}`)
      throw new Refused(403, 'origin-not-allowed', `Origin ${origin} is not this local server`);
    if (req.headers['sec-fetch-site'] === 'cross-site')
      throw new Refused(403, 'origin-not-allowed', 'a cross-site request');
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (e instanceof Refused) return send(res, e.status, { error: e.code, message: e.message });
      // Logged here, never echoed: an internal message can carry what the request sent.
      console.error('console server: unexpected failure', e);
      send(res, 500, { error: 'internal', message: 'unexpected failure; it was logged' });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    checkOrigin(req);
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/config.json')
      return send(res, 200, { auth: 'dev', restUrl: '/api', webSocketUrl: '/ws' });
    if (url.pathname === '/dev/login' && req.method === 'POST') {
      const body = devBody(await readBody(req), loginBody);
      if (!body.success) return send(res, 400, body.error);
      const principal = { user: body.data.user, role: body.data.role, exp: now() + DEV_TOKEN_TTL_MS };
      return send(res, 200, {
        user: principal.user,
        role: principal.role,
        expiresAt: new Date(principal.exp).toISOString(),
        token: sign(principal),
      });
    }
    const principal = verify(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]);
    if (url.pathname === '/dev/tick' && req.method === 'POST') {
      if (principal?.role !== 'operator')
        return send(res, 403, { error: 'forbidden', message: 'operators only' });
      const body = devBody(await readBody(req), tickBody);
      if (!body.success) return send(res, 400, body.error);
      await system.tick(body.data.instrument, body.data.price);
      return send(res, 200, { ticked: body.data });
    }
    if (url.pathname.startsWith('/api/')) {
      const method = req.method ?? 'GET';
      const isPublic = PUBLIC.has(`${method} ${url.pathname.slice(4)}`);
      if (!principal && !isPublic)
        return send(res, 401, { error: 'unauthenticated', message: 'sign in first' });
      // The rule IAM enforces on AWS: the viewer role may only invoke GET.
      if (principal && !canCall(principal.role, method))
        return send(res, 403, {
          error: 'forbidden',
          message: `${principal.role} may not ${method} ${url.pathname.slice(4)}`,
        });
      const path = url.pathname.slice(4);
      const template = TEMPLATES.find((t) => t.pattern.test(path));
      const id = template ? template.pattern.exec(path)?.[1] : undefined;
      const event = {
        resource: template?.path ?? path,
        path,
        httpMethod: method,
        pathParameters: id ? { id: decodeURIComponent(id) } : null,
        queryStringParameters: url.searchParams.size ? Object.fromEntries(url.searchParams) : null,
        // A public route (the acknowledgement page's form) may post a form; every other body is JSON.
        body: method === 'GET' ? null : (await readBody(req, isPublic ? FORM_OR_JSON : JSON_ONLY)) || null,
        requestContext: { identity: {} },
      } as unknown as APIGatewayProxyEvent;
      // The person is the development login's, from its signed token (never from the request's body).
      const person = principal
        ? { name: principal.user, id: `dev:${principal.user}`, via: 'dev' as const }
        : null;
      const out = await route(event, { ...system.api, identify: async () => person });
      // A change made here flows on as it would on AWS: orders filled, streams run, channels told.
      if (method !== 'GET' && out.statusCode < 300) await system.settle();
      // The route's own headers as API Gateway passes them on (the acknowledgement page's CSP, framing,
      // referrer and refusal headers among them).
      res.writeHead(out.statusCode, {
        ...Object.fromEntries(Object.entries(out.headers ?? {}).map(([k, v]) => [k, String(v)])),
        'content-type': out.headers?.['content-type']?.toString() ?? 'application/json',
        'cache-control': 'no-store',
      });
      return res.end(out.body);
    }
    const file = normalize(join(siteDir, url.pathname === '/' ? 'index.html' : url.pathname));
    if (!file.startsWith(siteDir) || !statSync(file, { throwIfNoEntry: false })?.isFile())
      return send(res, 404, { error: 'not-found', message: url.pathname });
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  }

  // Live channels: the real connect/subscribe handler over an in-memory connection table.
  const sockets = new Map<string, WebSocket>();
  const connections = new Map<string, Connection>();
  const store = {
    put: async (c: Connection) => void connections.set(c.connectionId, c),
    subscribe: async (id: string, channels: Channel[], accounts: string[] | null) => {
      const c = connections.get(id);
      if (c) Object.assign(c, { channels, accounts });
      return c !== undefined;
    },
    remove: async (id: string) => void connections.delete(id),
  };
  const gateway: ConnectionGateway = {
    post: async (id, data) => {
      const ws = sockets.get(id);
      if (!ws || ws.readyState !== ws.OPEN) return 'gone';
      ws.send(data);
      return 'sent';
    },
  };
  const wsDeps = {
    connections: store,
    roles: { viewerRoleName: '', operatorRoleName: '' },
    now: () => new Date(),
  };
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    try {
      checkOrigin(req, true);
    } catch (e) {
      socket.write(`HTTP/1.1 403 Forbidden\r\n\r\n${(e as Error).message}`);
      return socket.destroy();
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const principal = verify(url.searchParams.get('token'));
    if (url.pathname !== '/ws' || !principal) {
      socket.write('HTTP/1.1 401 Unauthorized\r\n\r\n');
      return socket.destroy();
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const connectionId = randomBytes(8).toString('hex');
      sockets.set(connectionId, ws);
      const event = (routeKey: string, body?: string) =>
        ({ body, requestContext: { connectionId, routeKey } }) as unknown as WebSocketEvent;
      // The dev principal's role stands in for the IAM role AWS would resolve.
      void store.put({
        connectionId,
        role: principal.role,
        user: `dev:${principal.role}/${principal.user}`,
        channels: [],
        accounts: null,
        connectedAt: new Date().toISOString(),
        expiresAt: 0,
      });
      ws.on('message', async (data) => {
        const out = await handleWebSocket(event('subscribe', data.toString()), wsDeps);
        ws.send(out.body ?? '{}');
      });
      ws.on('close', () => {
        sockets.delete(connectionId);
        void handleWebSocket(event('$disconnect'), wsDeps);
      });
    });
  });
  const off = system.onMessage((m) => {
    void broadcast([m], [...connections.values()], gateway, store.remove);
  });

  // A busy port (another run, another tool) falls back to any free one rather than failing the run.
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EADDRINUSE' || port === 0) return reject(e);
      server.listen(0, host, resolve);
    });
    server.listen(port, host, resolve);
  });
  actual = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${actual}/`,
    close: async () => {
      off();
      for (const ws of sockets.values()) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/**
 * A request's body as text: JSON only (a cross-origin form or `text/plain` POST, which needs no CORS
 * preflight, is refused before it is read) and at most MAX_BODY_BYTES (a 413 naming the limit).
 */
const JSON_ONLY = ['application/json'];
const FORM_OR_JSON = ['application/json', 'application/x-www-form-urlencoded'];

async function readBody(req: IncomingMessage, accept: readonly string[] = JSON_ONLY): Promise<string> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared === 0 && req.headers['transfer-encoding'] === undefined) return '';
  if (!accept.includes(type))
    throw new Refused(
      415,
      'unsupported-media-type',
      `content-type ${type || '(none)'}; send ${accept.join(' or ')}`,
    );
  if (declared > MAX_BODY_BYTES)
    throw new Refused(413, 'body-too-large', `body: ${declared} bytes; at most ${MAX_BODY_BYTES}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY_BYTES) {
      req.resume();
      throw new Refused(413, 'body-too-large', `body: more than ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}
