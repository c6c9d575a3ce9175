import type { APIGatewayProxyEvent } from 'aws-lambda';
import { route } from '../../functions/api/router.ts';
import type { ApiDeps } from '../../functions/api/routes.ts';
import type { AuditEntry } from '../../functions/lib/actions-repository.ts';
import { acknowledgePage } from '../../functions/lib/dispatcher.ts';
import type { LinkUse } from '../../functions/lib/notify-store.ts';
import { signAck, type AckRecipient } from '../../shared/notify/ack-token.ts';
import { nextStep, type PageState } from '../../shared/notify/ladder.ts';
import { notificationPolicySchema, type NotificationPolicy } from '../../shared/notify/policy.ts';

/**
 * One page on an on-call ladder behind the REST API's dependencies, over an in-memory page store with the
 * DynamoDB store's semantics (a link's use and the acknowledgement together or not at all), for the
 * acknowledgement suite (test/unit/notify/ack-links.test.ts, the local console server's test).
 */

export const SENT = new Date('2026-11-24T13:00:00Z');
export const EXPIRES = new Date('2026-11-24T15:00:00Z');
export const KEY = 'ack-key-current';
/** A page id as the dispatcher makes them (24 hex digits). */
export const PAGE = 'ab'.repeat(12);
export const PRIMARY: AckRecipient = { route: 'primary', channel: 'sms', address: '+447700900101' };

export const basePolicy = {
  routes: [
    { name: 'primary', channel: 'sms', phoneNumber: '+447700900101' },
    { name: 'secondary', channel: 'sms', phoneNumber: '+447700900102' },
    { name: 'desk', channel: 'telegram', chatId: '-100' },
  ],
  rules: [{ categories: ['warning'], routes: ['desk'] }],
  onCall: [
    { tier: 'primary', routes: ['primary'], ackMinutes: 10, pagesPerTier: 1 },
    { tier: 'secondary', routes: ['secondary'], ackMinutes: 10, pagesPerTier: 1 },
  ],
};

export function ackSystem(policyInput: object = basePolicy) {
  let now = SENT;
  let policy: NotificationPolicy = notificationPolicySchema.parse(policyInput);
  const pages = new Map<string, PageState & { alert: { headline: string } }>();
  const uses = new Map<string, LinkUse>();
  const audit: (AuditEntry | Record<string, unknown>)[] = [];
  /** Every write to the store: a GET or HEAD must leave it empty. */
  const writes: string[] = [];
  pages.set(PAGE, {
    pageId: PAGE,
    alertId: 'A1:alert',
    accountId: 'A1',
    incidentId: 'A1:risk:1',
    createdAt: SENT.toISOString(),
    tier: 0,
    attempt: 1,
    ackedBy: null,
    ackedAt: null,
    alert: { headline: 'A1 at LIQUIDATION <b>(ratio 1.02)</b>' },
  });
  const store = {
    page: async (id: string) => structuredClone(pages.get(id) ?? null),
    linkUse: async (id: string, nonce: string) => uses.get(`${id}#${nonce}`) ?? null,
    acknowledge: async (id: string, by: string, at: string) => {
      const p = pages.get(id);
      if (!p) return null;
      if (p.ackedBy) return { page: structuredClone(p), first: false };
      writes.push(`ack ${id}`);
      pages.set(id, { ...p, ackedBy: by, ackedAt: at });
      return { page: structuredClone(pages.get(id)!), first: true };
    },
    acknowledgeWithLink: async (
      id: string,
      nonce: string,
      by: string,
      at: string,
      entry?: Record<string, unknown>,
    ) => {
      const use = uses.get(`${id}#${nonce}`);
      if (use) return { kind: 'replayed' as const, use };
      const p = pages.get(id);
      if (!p) return null;
      if (p.ackedBy) return { kind: 'already' as const, page: structuredClone(p) };
      writes.push(`link ${id}#${nonce}`);
      uses.set(`${id}#${nonce}`, { by, at });
      pages.set(id, { ...p, ackedBy: by, ackedAt: at });
      if (entry) audit.push(entry);
      return { kind: 'acknowledged' as const, page: structuredClone(pages.get(id)!) };
    },
  };
  const deps = {
    pages: {
      ackSecret: async () => [KEY, 'ack-key-previous'],
      store,
      acknowledge: (id: string, by: string) =>
        acknowledgePage(
          {
            store: store as unknown as Parameters<typeof acknowledgePage>[0]['store'],
            audit: async (e) => void audit.push(e),
            now: () => now,
          },
          id,
          by,
        ),
    },
    notificationPolicy: async () => policy,
    now: () => now,
  } as unknown as ApiDeps;
  const call = async (
    method: string,
    resource: string,
    o: { token?: string; form?: string; id?: string; base64?: boolean } = {},
  ) => {
    const event = {
      httpMethod: method,
      resource,
      pathParameters: o.id ? { id: o.id } : null,
      queryStringParameters: o.token !== undefined ? { token: o.token } : null,
      headers: o.form !== undefined ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {},
      body: o.form === undefined ? null : o.base64 ? Buffer.from(o.form).toString('base64') : o.form,
      isBase64Encoded: o.base64 ?? false,
      requestContext: { identity: { userArn: 'arn:aws:iam::123456789012:user/olivia' } },
    } as unknown as APIGatewayProxyEvent;
    const r = await route(event, deps);
    return { status: r.statusCode, headers: r.headers ?? {}, body: r.body };
  };
  const link = (recipient = PRIMARY, expiresAt = EXPIRES, pageId = PAGE) =>
    signAck({ pageId, recipient, expiresAt }, KEY);
  return {
    deps,
    call,
    link,
    /** The form the confirmation page posts: its hidden token field. */
    post: (token: string, base64 = false) =>
      call('POST', '/ack', { form: new URLSearchParams({ token }).toString(), base64 }),
    page: () => pages.get(PAGE)!,
    audit,
    writes,
    uses,
    /** The ladder's next rung for the page as it stands. */
    next: () => nextStep(pages.get(PAGE)!, policy).kind,
    setNow: (d: Date) => (now = d),
    setPolicy: (p: object) => (policy = notificationPolicySchema.parse(p)),
  };
}
