import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiDeps } from '../../functions/api/handler.ts';
import { route } from '../../functions/api/router.ts';
import type { ApiDeps } from '../../functions/api/routes.ts';
import { ActionsRepository, SettingsRepository } from '../../functions/lib/actions-repository.ts';
import type { ChannelSender, Delivery } from '../../functions/lib/channels/delivery.ts';
import { Dispatcher } from '../../functions/lib/dispatcher.ts';
import { NotifyStore } from '../../functions/lib/notify-store.ts';
import { POLICY_SETTING, readPolicy } from '../../functions/lib/policy-setting.ts';
import { createTables, localClient } from '../../local/tables.ts';
import { alertFor } from '../../shared/notify/alert.ts';
import { decodeAckClaims, encodeAckClaims, signAck } from '../../shared/notify/ack-token.ts';
import { CapturedDeadLetter } from '../helpers/capture.ts';
import { testDynamoDb, type TestDynamoDb } from '../helpers/dynamodb.ts';

/**
 * The acknowledgement suite on DynamoDB Local: the real dispatcher pages the on-call ladder, the real API
 * (apiDeps, the router) serves the link's confirmation page and takes its POST, and the link's single use
 * is the store's conditional write. A GET or HEAD never acknowledges, so the ladder keeps climbing.
 */

let db: TestDynamoDb;
let client: DynamoDBClient;
let tables: Awaited<ReturnType<typeof createTables>>;

beforeAll(async () => {
  db = await testDynamoDb();
  client = localClient(db.endpoint);
  tables = await createTables(client, db.prefix('ack'));
}, 120_000);
afterAll(async () => db?.stop());

const SECRET = 'ack-secret-for-tests';
const policyOf = (ackScope: 'incident' | 'page', primaryNumber = '+447700900101') => ({
  routes: [
    { name: 'primary', channel: 'sms', phoneNumber: primaryNumber },
    { name: 'secondary', channel: 'sms', phoneNumber: '+447700900102' },
    { name: 'desk', channel: 'telegram', chatId: '-100' },
  ],
  rules: [{ categories: ['warning'], routes: ['desk'] }],
  onCall: [
    { tier: 'primary', routes: ['primary'], ackMinutes: 10, pagesPerTier: 1 },
    { tier: 'secondary', routes: ['secondary'], ackMinutes: 10, pagesPerTier: 1 },
  ],
  ackScope,
});

/** One system per test: its own accounts (so its own pages), the API and the dispatcher on one store. */
async function harness(accountId: string, ackScope: 'incident' | 'page' = 'incident') {
  let now = new Date('2026-11-24T13:00:00Z');
  const sent: Delivery[] = [];
  const ok: ChannelSender = { send: async (d) => void sent.push(d) };
  const settings = new SettingsRepository(client, tables.settings);
  await settings.put(POLICY_SETTING, policyOf(ackScope));
  const actions = new ActionsRepository(client, tables.actions, () => now);
  const dispatcher = new Dispatcher({
    policy: () => readPolicy(settings, {}),
    store: new NotifyStore(client, tables.actions),
    senders: { telegram: ok, email: ok, sms: ok, websocket: ok, webhook: ok },
    deadLetter: new CapturedDeadLetter(),
    paging: { start: async () => {} },
    audit: (e) => actions.audit(e),
    log: () => {},
    ack: { secret: async () => SECRET, baseUrl: 'https://api.example/prod/ack' },
    now: () => now,
    retry: { attempts: 1 },
  });
  const api: ApiDeps = apiDeps(
    client,
    tables,
    {
      repo: {} as ApiDeps['repo'],
      bands: {} as ApiDeps['bands'],
      publisher: {} as ApiDeps['publisher'],
      stage: 'test',
    },
    () => now,
    { ackSecret: async () => [SECRET], policyFallback: {} },
  );
  const call = async (
    method: string,
    resource: string,
    o: { token?: string; form?: string; id?: string } = {},
  ) => {
    const r = await route(
      {
        httpMethod: method,
        resource,
        pathParameters: o.id ? { id: o.id } : null,
        queryStringParameters: o.token !== undefined ? { token: o.token } : null,
        headers: o.form !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
        body: o.form ?? null,
        isBase64Encoded: false,
        requestContext: { identity: { userArn: 'arn:aws:iam::123456789012:user/olivia' } },
      } as unknown as APIGatewayProxyEvent,
      api,
    );
    return { status: r.statusCode, refusal: r.headers?.['x-ack-refusal'], body: r.body };
  };
  const store = new NotifyStore(client, tables.actions);
  const doc = DynamoDBDocumentClient.from(client);
  return {
    dispatcher,
    store,
    sent,
    call,
    /**
     * A paging alert of the account's incident: the LIQUIDATION alert (liquidation-approaching), or the
     * automation's failure (system) later in the same incident.
     */
    page: async (kind: 'alert' | 'failure' = 'alert') => {
      const facts = {
        accountId,
        incidentId: `${accountId}:risk:1`,
        level: 'LIQUIDATION' as const,
        marginRatio: '1.05',
        callMove: '-0.01',
        next: 'liquidating',
      };
      const out = await dispatcher.dispatch(alertFor(kind, facts, 'critical', now.toISOString()));
      return out.pageId!;
    },
    /** The token in the last page's SMS to a route. */
    tokenSentTo: (route: string) => {
      const text = sent.filter((d) => d.route === route).at(-1)?.text ?? '';
      return /token=([A-Za-z0-9_.-]+)/.exec(text)?.[1] ?? '';
    },
    post: (token: string) => call('POST', '/ack', { form: new URLSearchParams({ token }).toString() }),
    audit: () => actions.listAudit(accountId),
    /** Every item the links' single use wrote for a page. */
    linkUses: async (pageId: string) =>
      (
        await doc.send(
          new QueryCommand({
            TableName: tables.actions,
            KeyConditionExpression: 'accountId = :p AND begins_with(actionKey, :k)',
            ExpressionAttributeValues: { ':p': '#pages', ':k': `ACKLINK#${pageId}#` },
            ConsistentRead: true,
          }),
        )
      ).Items ?? [],
    setPolicy: (p: object) => settings.put(POLICY_SETTING, p),
    advance: (minutes: number) => (now = new Date(now.getTime() + minutes * 60_000)),
  };
}

describe('acknowledgement links on DynamoDB Local', () => {
  it('a prefetch (HEAD, GET) leaves the ladder climbing; the POST from the page acknowledges once; a replay is refused', async () => {
    const h = await harness('ACK-1');
    const pageId = await h.page();
    expect((await h.dispatcher.pageStep('start', pageId)).note).toBe('paged primary (1)');
    const token = h.tokenSentTo('primary');
    expect(token).not.toBe('');
    // A mail scanner HEADs the link, a chat unfurl GETs it, twice: nothing is acknowledged or spent.
    expect((await h.call('HEAD', '/ack', { token })).status).toBe(405);
    for (let i = 0; i < 2; i++) {
      const shown = await h.call('GET', '/ack', { token });
      expect(shown.status).toBe(200);
      expect(shown.body).toContain('<form method="post" action="ack">');
    }
    expect((await h.store.page(pageId))!.ackedBy).toBeNull();
    expect(await h.linkUses(pageId)).toEqual([]);
    // The wait passes: the ladder climbs to the secondary.
    h.advance(10);
    const climbed = await h.dispatcher.pageStep('escalate', pageId, { tier: 0, attempt: 1 });
    expect(climbed).toMatchObject({ done: false, tier: 1, note: 'paged secondary (1)' });
    // The primary confirms on the page: acknowledged, as the link's recipient and channel.
    const acked = await h.post(token);
    expect(acked.status).toBe(200);
    expect(acked.body).toContain('Page for account ACK-1 acknowledged (link:sms:primary');
    expect(await h.store.page(pageId)).toMatchObject({ ackedBy: 'link:sms:primary' });
    expect(await h.linkUses(pageId)).toHaveLength(1);
    const audit = (await h.audit()).filter((a) => a.action === 'page-acknowledged');
    expect(audit).toMatchObject([
      {
        actor: 'link:sms:primary',
        incidentId: 'ACK-1:risk:1',
        details: { pageId, tier: 1, via: 'link', route: 'primary', channel: 'sms' },
      },
    ]);
    // The same form again: refused by name; one acknowledgement, one audit entry.
    const replay = await h.post(token);
    expect(replay).toMatchObject({ status: 409, refusal: 'ack-link-replayed' });
    expect((await h.audit()).filter((a) => a.action === 'page-acknowledged')).toHaveLength(1);
    // The ladder stops at its next rung: nobody else is paged.
    h.advance(10);
    const smsBefore = h.sent.length;
    expect(await h.dispatcher.pageStep('escalate', pageId, { tier: 1, attempt: 1 })).toMatchObject({
      done: true,
      note: expect.stringMatching(/acknowledged by link:sms:primary/),
    });
    expect(h.sent.length).toBe(smsBefore);
  });

  it('two POSTs of one link at once: exactly one acknowledges, the other is refused as a replay', async () => {
    const h = await harness('ACK-2');
    const pageId = await h.page();
    await h.dispatcher.pageStep('start', pageId);
    const token = h.tokenSentTo('primary');
    const results = await Promise.all([h.post(token), h.post(token), h.post(token)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    expect(results.filter((r) => r.status === 409).map((r) => r.refusal)).toEqual([
      'ack-link-replayed',
      'ack-link-replayed',
    ]);
    expect(await h.linkUses(pageId)).toHaveLength(1);
    expect((await h.audit()).filter((a) => a.action === 'page-acknowledged')).toHaveLength(1);
  });

  it('expired, foreign-recipient and tampered links are refused by name; the ladder keeps climbing', async () => {
    const h = await harness('ACK-3');
    const pageId = await h.page();
    await h.dispatcher.pageStep('start', pageId);
    const token = h.tokenSentTo('primary');
    const [payload, mac, kid] = token.split('.') as [string, string, string];
    const claims = decodeAckClaims(payload)!;
    const tampered = `${encodeAckClaims({ ...claims, nonce: 'BBBBBBBBBBBB' })}.${mac}.${kid}`;
    expect(await h.post(tampered)).toMatchObject({ status: 403, refusal: 'ack-link-tampered' });
    // Signed with the key in force, for the desk's chat: not a recipient of the ladder.
    const desk = signAck(
      {
        pageId,
        recipient: { route: 'desk', channel: 'telegram', address: '-100' },
        expiresAt: new Date('2027-01-01'),
      },
      SECRET,
    );
    expect(await h.post(desk)).toMatchObject({ status: 403, refusal: 'ack-link-foreign-recipient' });
    // The primary's number is reassigned: the link sent to the old number no longer acknowledges.
    await h.setPolicy(policyOf('incident', '+447700900177'));
    expect(await h.post(token)).toMatchObject({ status: 403, refusal: 'ack-link-foreign-recipient' });
    await h.setPolicy(policyOf('incident'));
    // Past ackLinkMinutes (120 by default).
    h.advance(121);
    expect(await h.call('GET', '/ack', { token })).toMatchObject({
      status: 410,
      refusal: 'ack-link-expired',
    });
    expect(await h.post(token)).toMatchObject({ status: 410, refusal: 'ack-link-expired' });
    expect(await h.linkUses(pageId)).toEqual([]);
    expect((await h.store.page(pageId))!.ackedBy).toBeNull();
    expect(await h.dispatcher.pageStep('escalate', pageId, { tier: 0, attempt: 1 })).toMatchObject({
      done: false,
      note: 'paged secondary (1)',
    });
  });

  it('ackScope incident (the default): a later paging alert of the incident joins the acknowledged page', async () => {
    const h = await harness('ACK-4', 'incident');
    const first = await h.page('alert');
    await h.dispatcher.pageStep('start', first);
    expect((await h.post(h.tokenSentTo('primary'))).status).toBe(200);
    // Automation then fails in the same incident: its page is the acknowledged one; nobody is paged.
    const second = await h.page('failure');
    expect(second).toBe(first);
    expect(await h.dispatcher.pageStep('start', second)).toMatchObject({ done: true });
  });

  it('ackScope page: acknowledging one page stops that ladder only; the incident’s next paging alert pages afresh', async () => {
    const h = await harness('ACK-5', 'page');
    const first = await h.page('alert');
    await h.dispatcher.pageStep('start', first);
    const second = await h.page('failure');
    expect(second).not.toBe(first);
    await h.dispatcher.pageStep('start', second);
    // The primary acknowledges the first page's link.
    const firstToken = h.sent
      .filter((d) => d.route === 'primary')
      .map((d) => /token=([A-Za-z0-9_.-]+)/.exec(d.text ?? '')![1]!)[0]!;
    expect((await h.post(firstToken)).status).toBe(200);
    expect((await h.store.page(first))!.ackedBy).toBe('link:sms:primary');
    expect((await h.store.page(second))!.ackedBy).toBeNull();
    // The first ladder stops; the second climbs to the secondary.
    h.advance(10);
    expect(await h.dispatcher.pageStep('escalate', first, { tier: 0, attempt: 1 })).toMatchObject({
      done: true,
    });
    expect(await h.dispatcher.pageStep('escalate', second, { tier: 0, attempt: 1 })).toMatchObject({
      done: false,
      note: 'paged secondary (1)',
    });
  });
});
