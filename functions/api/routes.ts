import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { Decimal, toEdge } from '../../shared/decimal.ts';
import {
  liquidationPrioritySchema,
  strategySchema,
  type LiquidationPriority,
  type Strategy,
} from '../../shared/deleverage/ordering.ts';
import { orderRequestEvent, describeOrders } from '../../shared/escalation/order-request.ts';
import { alertSettingsSchema, escalationConfigSchema } from '../../shared/escalation/settings.ts';
import { ALWAYS_LOW, watched } from '../../shared/bands/band-rows.ts';
import { parseEvaluationInput } from '../../shared/margin/evaluate.ts';
import { toEngineAccount } from '../../shared/pipeline/records.ts';
import { thresholdsFor } from '../../shared/risk/account-thresholds.ts';
import { riskContextSchema } from '../../shared/risk/dynamic-thresholds.ts';
import { thresholdsSchema } from '../../shared/risk/levels.ts';
import { decimalString } from '../../shared/schemas/decimal-string.ts';
import type { DomainEvent } from '../../shared/events/schemas.ts';
import { loadPlanBasis, planFromBasis, planIdOf } from '../lib/plan-for-account.ts';
import type { Plan } from '../../shared/deleverage/planner.ts';
import { InvalidPageToken } from '../lib/overview-repository.ts';
import { accountAnalytics, type AuditPoint, type HistoryPoint } from '../../shared/console/analytics.ts';
import { OVERVIEW_LEVELS } from '../../shared/console/overview.ts';
import { planToJson } from '../../shared/replay/serialize.ts';
import { adlQueue, TooManyHolders } from '../lib/adl-queue.ts';
import { POLICY_SETTING } from '../lib/policy-setting.ts';
import { linkActor } from '../../shared/notify/ack-token.ts';
import { AckRefusedError, parseOrThrow, type AckRefusalCode } from '../../shared/errors.ts';
import { acknowledgeLink, inspectLink, type AckLinkDeps } from '../lib/ack-links.ts';
import { notificationPolicySchema } from '../../shared/notify/policy.ts';
import { maskPolicyContacts } from '../../shared/notify/redact.ts';
import { actorFor } from './identity.ts';
import {
  bodyTooLarge,
  HttpError,
  json,
  MAX_BODY_BYTES,
  notFound,
  parseBody,
  parseQuery,
  readBody,
} from './http.ts';
import { DEFAULT_RESTRICTION_POLICY } from '../../shared/risk/restrictions.ts';
import { BROKER_CONTROL_ROUTES, restrictionOf } from './broker-controls.ts';
import { INGEST_ROUTES } from './ingest-routes.ts';

export type { ApiDeps, Route } from './route-types.ts';
import type { ApiDeps, Route } from './route-types.ts';

const accountId = (e: APIGatewayProxyEvent) => {
  const id = e.pathParameters?.id ?? '';
  if (!/^[A-Za-z0-9._:@-]{1,128}$/.test(id))
    throw new HttpError(400, 'invalid-input', 'path.id: not a valid account id');
  return id;
};
/** Who acts: the signed-in person (never a body field), or an IAM caller that is no console sign-in. */
const actor = (e: APIGatewayProxyEvent, d: ApiDeps) => actorFor(e, d.identify);

const thresholdsBody = z
  .object({ thresholds: thresholdsSchema.optional(), riskContext: riskContextSchema.nullable().optional() })
  .strict();
const orderBody = z
  .object({
    /** The plan the operator confirmed (GET /accounts/{id}/plan): the same plan twice is one request. */
    planId: z.string().regex(/^plan-[A-Za-z0-9_-]{32}$/, 'the planId of a preview (GET /accounts/{id}/plan)'),
    reason: z.string().min(3).max(500),
    targetRatio: decimalString
      .refine((d) => d.greaterThan(0), { error: 'must be greater than 0' })
      .optional(),
    strategy: strategySchema.optional(),
    liquidationPriority: liquidationPrioritySchema.optional(),
  })
  .strict();
/** A confirmation seen again while its first request is still publishing waits this long before retaking it. */
const MANUAL_LEASE_MS = 30_000;
const holdBody = z.object({ reason: z.string().min(3).max(500) }).strict();
const pageId = (e: APIGatewayProxyEvent) => {
  const id = e.pathParameters?.id ?? '';
  if (!/^[a-f0-9]{24}$/.test(id)) throw new HttpError(400, 'invalid-input', 'path.id: not a page id');
  return id;
};
const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
/** The acknowledgement form: the link's token in the body (a POST from the page, never a GET). */
const ackForm = z.strictObject({
  token: z.string({ error: 'required' }).min(1, 'required').max(2048, 'at most 2048 characters'),
});
/** A form body (application/x-www-form-urlencoded) as an object of its fields, for its schema. */
const formBody = (e: APIGatewayProxyEvent): Record<string, string> => {
  const text = e.body ? (e.isBase64Encoded ? Buffer.from(e.body, 'base64').toString('utf8') : e.body) : '';
  // The same limit as JSON bodies (readBody): a 413 naming it, nothing parsed.
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_BODY_BYTES) throw bodyTooLarge(bytes);
  return Object.fromEntries(new URLSearchParams(text));
};
/**
 * The page people see from a link: no script, no framing, no referrer (the URL holds the token), not
 * cached or indexed; the form posts back to the same route (relative: the stage prefix on AWS, /api locally).
 */
const ackPage = (
  status: number,
  title: string,
  lines: string[],
  token?: string,
  refusal?: AckRefusalCode,
): APIGatewayProxyResult => ({
  statusCode: status,
  headers: {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy':
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-robots-tag': 'noindex, nofollow',
    ...(refusal ? { 'x-ack-refusal': refusal } : {}),
  },
  body: `<!doctype html><html><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title></head><body style="font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto"><h1>${escapeHtml(title)}</h1>${lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('')}${
    refusal ? `<p>Reason: <code data-refusal="${refusal}">${refusal}</code></p>` : ''
  }${
    token
      ? `<form method="post" action="ack"><input type="hidden" name="token" value="${escapeHtml(token)}"><button type="submit" style="font-size:1.2rem;padding:.5rem 1.5rem">Acknowledge</button></form>`
      : ''
  }</body></html>`,
});
const REFUSAL_STATUS: Record<AckRefusalCode, number> = {
  'ack-link-invalid': 400,
  'ack-link-tampered': 403,
  'ack-link-expired': 410,
  'ack-link-replayed': 409,
  'ack-link-foreign-recipient': 403,
  'ack-page-unknown': 404,
};
const refusal = (err: AckRefusedError) =>
  ackPage(
    REFUSAL_STATUS[err.code],
    'Not acknowledged',
    [err.message.replace(/^token: /, '')],
    undefined,
    err.code,
  );
const ackLinkDeps = (d: ApiDeps): AckLinkDeps => ({
  keys: (token) => d.pages.ackSecret(token),
  store: d.pages.store,
  policy: () => d.notificationPolicy(),
  now: () => d.now?.() ?? new Date(),
});
const overviewQuery = z.strictObject({
  level: z
    .string()
    .transform((s) => s.split(','))
    .pipe(z.array(z.enum(OVERVIEW_LEVELS)).min(1))
    .optional(),
  sort: z.enum(['ratio', 'distance']).default('ratio'),
  order: z.enum(['asc', 'desc']).default('asc'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  next: z.string().optional(),
});
const planQuery = z.strictObject({
  kind: z.enum(['deleverage', 'liquidate']).default('deleverage'),
  targetRatio: decimalString.refine((d) => d.greaterThan(0), { error: 'must be greater than 0' }).optional(),
  strategy: strategySchema.optional(),
  liquidationPriority: liquidationPrioritySchema.optional(),
});
const historyQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  next: z.string().optional(),
});

/**
 * A manual deleverage or liquidation's plan: the configured policy with the request's overrides, and its
 * id (a digest of what it was made from: see planIdOf).
 */
async function manualPlan(
  d: ApiDeps,
  id: string,
  kind: 'deleverage' | 'liquidate',
  incidentId: string,
  overrides: { targetRatio?: Decimal; strategy?: Strategy; liquidationPriority?: LiquidationPriority },
) {
  const config = await d.settings.get('escalation', escalationConfigSchema);
  const basis = await loadPlanBasis(d.repo, id);
  if (!basis) throw notFound(`account ${id}`);
  const plan = planFromBasis(basis, {
    incidentId,
    step: `manual-${kind}`,
    fullLiquidation: kind === 'liquidate',
    now: d.now?.() ?? new Date(),
    policy: config.policy,
    overrides: {
      targetRatio: overrides.targetRatio,
      strategy: overrides.strategy,
      liquidationPriority: overrides.liquidationPriority,
    },
  });
  return { plan, planId: planIdOf(basis, { kind, plan, policy: config.policy }) };
}

/** A plan as the console previews it (no order idempotency keys: those belong to the confirmation). */
function previewJson(id: string, kind: 'deleverage' | 'liquidate', planId: string, plan: Plan) {
  const { ratioBefore, targetRatio, projectedRatio, projectedEquity, restoresTarget, orders } =
    planToJson(plan);
  return {
    accountId: id,
    kind,
    planId,
    strategy: plan.strategy,
    liquidationPriority: plan.liquidationPriority,
    marginRatio: ratioBefore,
    targetRatio,
    projectedRatio,
    projectedEquity,
    restoresTarget,
    orders: orders.map(({ idempotencyKey: _key, ...o }) => o),
    summary: describeOrders(plan),
  };
}

/**
 * A confirmed plan, sent once: keyed by its plan id, so a double click, a retry or a second tab is the
 * same request (its first result, or `in-flight` while the first is still publishing). A plan whose
 * account, positions or prices have moved since the preview (or confirmed with other options) is refused
 * with `plan-stale` and a fresh preview to confirm instead.
 */
async function manualOrders(
  event: APIGatewayProxyEvent,
  d: ApiDeps,
  kind: 'deleverage' | 'liquidate',
): Promise<APIGatewayProxyResult> {
  const id = accountId(event);
  const body = parseBody(event, orderBody);
  const by = await actor(event, d);
  const incidentId = `manual:${body.planId}`;
  const step = `manual-${kind}`;
  const now = () => d.now?.() ?? new Date();
  let record = await d.actions.getStep<{ event: DomainEvent; summary: string }>(id, incidentId, step);
  let claimed = false;
  if (!record) {
    const { plan, planId } = await manualPlan(d, id, kind, incidentId, body);
    if (planId !== body.planId)
      return json(409, {
        error: 'plan-stale',
        message:
          'the account, its positions or prices changed since this plan was previewed (or the options differ): nothing was sent; confirm the fresh plan instead',
        plan: previewJson(id, kind, planId, plan),
      });
    const orderEvent = orderRequestEvent(
      { ...plan, reason: `manual: ${body.reason}` },
      'manual',
      now().toISOString(),
    );
    ({ record, claimed } = await d.actions.claimStep(id, incidentId, step, {
      event: orderEvent,
      summary: describeOrders(plan),
    }));
  }
  if (record.status !== 'published') {
    // Another request for this plan claimed it a moment ago and is publishing: the same request, in flight.
    if (!claimed && now().getTime() - Date.parse(record.createdAt) < MANUAL_LEASE_MS)
      return json(202, { planId: body.planId, status: 'in-flight', event: record.payload.event });
    await d.publisher.publish([record.payload.event]);
    await d.actions.markPublished(id, incidentId, step);
    await d.actions.audit({
      accountId: id,
      incidentId,
      action: step,
      actor: by,
      details: { reason: body.reason, orders: record.payload.summary, planId: body.planId },
    });
    await notifyManual(d, by, id, `manual ${kind}: ${record.payload.summary}`, `${kind}:${body.planId}`);
  }
  return json(claimed ? 202 : 200, { planId: body.planId, status: 'published', event: record.payload.event });
}

/** A manual action (hold, release, manual orders) as a notification: who did what to which account. */
async function notifyManual(d: ApiDeps, by: string, accountId: string, what: string, key: string) {
  if (!d.notify) return;
  const state = await d.repo.getRiskState(accountId);
  await d.notify({
    id: `${accountId}:manual:${key}`,
    category: 'manual-action',
    severity: 'info',
    accountId,
    incidentId: state?.tracker.incident?.id ?? null,
    level: state?.level ?? null,
    marginRatio: state?.marginRatio ?? null,
    callMove: state?.evaluation?.distanceToCall.call.move ?? null,
    headline: `${what} on account ${accountId} by ${by}`,
    done: what,
    next: 'nothing further from automation for this action',
    at: (d.now?.() ?? new Date()).toISOString(),
  });
}

/** PUT of a settings document: validated (every bad field named), stored as sent, audited. */
async function replaceSettings<S extends z.ZodType>(
  e: APIGatewayProxyEvent,
  d: ApiDeps,
  key: string,
  schema: S,
  action: string,
): Promise<z.output<S>> {
  const { raw, data: parsed } = readBody(e, schema);
  const by = await actor(e, d);
  await d.settings.put(key, raw);
  await d.actions.audit({
    accountId: '#system',
    action,
    actor: by,
    details: raw as Record<string, unknown>, // an object: the schema said so
  });
  return parsed;
}

export const ROUTES: Route[] = [
  {
    method: 'GET',
    path: '/status',
    summary: 'Service status',
    handle: async (_e, d) =>
      json(200, {
        service: 'margin-guard',
        stage: d.stage,
        time: (d.now?.() ?? new Date()).toISOString(),
        ok: true,
      }),
  },
  {
    method: 'GET',
    path: '/accounts',
    summary:
      'Every account: level, ratio, equity, maintenance, distance to call, incident, hold, data problems; worst level first, by ratio or distance to call (level, sort, order, limit, next)',
    handle: async (e, d) => {
      const q = parseQuery(e, overviewQuery);
      const page = await d.overview.list({ ...q, levels: q.level }).catch((err: unknown) => {
        throw err instanceof InvalidPageToken ? new HttpError(400, 'invalid-input', err.message) : err;
      });
      const holds = await d.overview.holds(page.rows.map((r) => r.accountId));
      return json(200, {
        items: page.rows.map((r) => ({
          accountId: r.accountId,
          level: r.level,
          marginRatio: r.marginRatio,
          equity: r.equity,
          maintenanceRequirement: r.maintenanceRequirement,
          inMarginCall: r.inMarginCall,
          callMove: r.overview?.callMove ?? null,
          zeroEquityMove: r.overview?.zeroEquityMove ?? null,
          grossExposure: r.overview?.grossExposure ?? null,
          model: r.overview?.model ?? null,
          incidentId: r.overview?.incidentId ?? null,
          hold: holds.get(r.accountId) ?? null,
          dataProblem: r.dataProblem,
          staleInstruments: r.staleInstruments,
          evaluatedAt: r.evaluatedAt,
        })),
        next: page.next,
      });
    },
  },
  {
    method: 'POST',
    path: '/pages/{id}/ack',
    summary: 'Acknowledge a page: its on-call escalation stops; who and when go to the audit trail',
    handle: async (e, d) => {
      const ack = await d.pages.acknowledge(pageId(e), await actor(e, d));
      if (!ack) throw notFound(`page ${pageId(e)}`);
      return json(200, ack);
    },
  },
  {
    method: 'GET',
    path: '/ack',
    public: true,
    summary:
      'A one-click acknowledgement link (token) opens a confirmation page; nothing is acknowledged until its form is posted',
    handle: async (e, d) => {
      const token = e.queryStringParameters?.token ?? '';
      try {
        const { claim, page, policy } = await inspectLink(token, ackLinkDeps(d));
        if (page.ackedBy)
          return ackPage(200, 'Already acknowledged', [
            `The page for account ${page.accountId} was acknowledged by ${page.ackedBy} at ${page.ackedAt}.`,
          ]);
        return ackPage(
          200,
          'Acknowledge this page?',
          [
            `Account ${page.accountId}${page.alert?.headline ? `: ${page.alert.headline}` : ''}.`,
            `Sent to ${claim.route} (${claim.channel}). Acknowledging records you as ${linkActor(claim)} and stops this page’s on-call escalation${
              policy.ackScope === 'incident' ? ', and every later page of the same incident' : ''
            }.`,
          ],
          token,
        );
      } catch (err) {
        if (err instanceof AckRefusedError) return refusal(err);
        throw err;
      }
    },
  },
  {
    method: 'POST',
    path: '/ack',
    public: true,
    bodyType: 'application/x-www-form-urlencoded',
    body: ackForm,
    summary:
      'Acknowledge from the confirmation page: the form posts the link’s token; once per link, by the recipient it was sent to',
    handle: async (e, d) => {
      const { token } = parseOrThrow(ackForm, formBody(e), ['body']);
      try {
        const ack = await acknowledgeLink(token, ackLinkDeps(d));
        return ackPage(200, ack.first ? 'Acknowledged' : 'Already acknowledged', [
          ack.first
            ? `Page for account ${ack.accountId} acknowledged (${ack.ackedBy}, ${ack.ackedAt}). Escalation stops.`
            : `Already acknowledged by ${ack.ackedBy} at ${ack.ackedAt}.`,
        ]);
      } catch (err) {
        if (err instanceof AckRefusedError) return refusal(err);
        throw err;
      }
    },
  },
  {
    method: 'GET',
    path: '/notifications',
    summary:
      'The notification policy: routes (contacts masked: they are write-only), rules, on-call tiers, quiet hours, digests, alert fatigue',
    handle: async (_e, d) => json(200, maskPolicyContacts(await d.notificationPolicy())),
  },
  {
    method: 'PUT',
    path: '/notifications',
    summary: 'Replace the notification policy (validated: every bad field is named)',
    body: notificationPolicySchema,
    handle: async (e, d) =>
      json(
        200,
        await replaceSettings(e, d, POLICY_SETTING, notificationPolicySchema, 'notifications-updated'),
      ),
  },
  {
    method: 'GET',
    path: '/instruments/{id}/adl',
    summary:
      'Auto-deleveraging queue of an instrument: profitable positions per side ranked by PnL% × effective leverage, with quintiles (5 = first in line)',
    handle: async (e, d) => {
      const instrument = accountId(e); // same character set as account ids
      const queue = await adlQueue(d.repo, instrument).catch((err: unknown) => {
        throw err instanceof TooManyHolders ? new HttpError(422, 'too-many-holders', err.message) : err;
      });
      if (!queue) throw notFound(`no price for ${instrument}`);
      return json(200, queue);
    },
  },
  {
    method: 'GET',
    path: '/summary',
    summary: 'Counts per level, total equity and exposure, open incidents, actions in the last 24 h',
    handle: async (_e, d) => {
      const summary = await d.readSummary();
      if (!summary) throw notFound('no summary yet: the summary job has not run');
      return json(200, summary);
    },
  },
  {
    method: 'GET',
    path: '/accounts/{id}/plan',
    summary:
      'Preview of a manual deleverage or liquidation: the orders and projected ratio, nothing published (kind, targetRatio, strategy, liquidationPriority)',
    handle: async (e, d) => {
      const id = accountId(e);
      const q = parseQuery(e, planQuery);
      const { plan, planId } = await manualPlan(d, id, q.kind, 'preview', q);
      return json(200, previewJson(id, q.kind, planId, plan));
    },
  },
  {
    method: 'GET',
    path: '/accounts/{id}/analytics',
    summary: 'Time spent per level, actions taken, ratio before and after each deleverage, incidents',
    handle: async (e, d) => {
      const id = accountId(e);
      const history: HistoryPoint[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await d.queryHistory(id, 500, start);
        history.push(...(page.items as HistoryPoint[]));
        start = page.next;
      } while (start && history.length < 5_000);
      const audit = (await d.actions.listAudit(id, 500)) as AuditPoint[];
      return json(200, {
        accountId: id,
        ...accountAnalytics(history, audit, (d.now?.() ?? new Date()).toISOString()),
      });
    },
  },
  {
    method: 'GET',
    path: '/accounts/{id}/risk',
    summary: 'Current risk level, ratio, incident, margin call, data problems and hold',
    handle: async (e, d) => {
      const id = accountId(e);
      const [state, hold] = await Promise.all([d.repo.getRiskState(id), d.actions.getHold(id)]);
      if (!state) throw notFound(`no risk state for account ${id}`);
      return json(200, {
        accountId: id,
        level: state.level,
        marginRatio: state.marginRatio,
        equity: state.equity,
        maintenanceRequirement: state.maintenanceRequirement,
        inMarginCall: state.inMarginCall,
        restriction: restrictionOf(state, d.restrictionPolicy ?? DEFAULT_RESTRICTION_POLICY),
        distanceToCall: state.evaluation?.distanceToCall ?? null,
        incident: state.tracker.incident,
        marginCall: state.tracker.marginCall,
        staleInstruments: state.staleInstruments,
        dataProblem: state.dataProblem,
        hold,
        evaluatedAt: state.evaluatedAt,
      });
    },
  },
  {
    method: 'GET',
    path: '/accounts/{id}/bands',
    summary:
      'Guard bands: per instrument, the prices between which no tick can change the level or margin call',
    handle: async (e, d) => {
      const id = accountId(e);
      const summary = await d.bands.getBandSummary(id);
      if (!summary)
        throw notFound(`no guard bands for account ${id} (not evaluated since bands were deployed)`);
      const unbanded = summary.always;
      return json(200, {
        accountId: id,
        // Unbanded: every tick of what it holds evaluates it (and, unless its prices are stale, the minute watch sweep).
        unbanded,
        watched: watched(unbanded),
        // Banded accounts may pin a stale price (an always-evaluate row among bands).
        evaluatedOnEveryTickOf: Object.entries(summary.rows)
          .filter(([, row]) => unbanded !== null || row.low === ALWAYS_LOW)
          .map(([instrument]) => instrument)
          .sort(),
        bands:
          unbanded === null
            ? Object.entries(summary.rows)
                .filter(([, row]) => row.low !== ALWAYS_LOW)
                .sort(([a], [b]) => (a < b ? -1 : 1))
                .map(([instrument, { low, high }]) => ({ instrument, low, high }))
            : [],
        version: summary.version,
      });
    },
  },
  {
    method: 'GET',
    path: '/accounts/{id}/margin',
    summary: 'The full latest margin evaluation',
    handle: async (e, d) => {
      const state = await d.repo.getRiskState(accountId(e));
      if (!state?.evaluation) throw notFound(`no evaluation for account ${accountId(e)}`);
      return json(200, state.evaluation);
    },
  },
  {
    method: 'GET',
    path: '/accounts/{id}/thresholds',
    summary: 'Configured and effective (context-adjusted) thresholds',
    handle: async (e, d) => {
      const id = accountId(e);
      const account = await d.repo.getAccount(id);
      if (!account) throw notFound(`account ${id}`);
      const parsed = parseEvaluationInput({ account: toEngineAccount(account), positions: [] }).account;
      const state = await d.repo.getRiskState(id);
      const t = thresholdsFor(parsed, new Decimal(state?.equity ?? '0'));
      return json(200, {
        configured: account.thresholds ?? null,
        riskContext: account.riskContext ?? null,
        effective: {
          warning: toEdge(t.warning),
          critical: toEdge(t.critical),
          liquidation: toEdge(t.liquidation),
          hysteresis: toEdge(t.hysteresis),
        },
      });
    },
  },
  {
    method: 'POST',
    path: '/accounts/{id}/thresholds',
    summary: 'Set the account’s thresholds and/or risk context (validated; audited)',
    body: thresholdsBody,
    handle: async (e, d) => {
      const id = accountId(e);
      // Validated first (every bad field named), then stored as validated: the fields the request gave,
      // each as the schema read it (decimals as canonical strings), never the raw body.
      const { raw, data: body } = readBody(e, thresholdsBody);
      const by = await actor(e, d);
      if (!(await d.repo.getAccount(id))) throw notFound(`account ${id}`);
      const given = (o: unknown) => Object.keys((o ?? {}) as object);
      const sent = raw as { thresholds?: object; riskContext?: object | null };
      const updated = {
        ...(body.thresholds
          ? {
              thresholds: Object.fromEntries(
                given(sent.thresholds).map((k) => [
                  k,
                  body.thresholds![k as keyof typeof body.thresholds].toFixed(),
                ]),
              ),
            }
          : {}),
        ...(body.riskContext !== undefined
          ? {
              riskContext:
                body.riskContext === null
                  ? null
                  : Object.fromEntries(
                      given(sent.riskContext).map((k) => [
                        k,
                        body.riskContext![k as keyof typeof body.riskContext],
                      ]),
                    ),
            }
          : {}),
      };
      await d.updateAccount(id, updated);
      await d.actions.audit({ accountId: id, action: 'thresholds-updated', actor: by, details: updated });
      return json(200, { accountId: id, updated });
    },
  },
  {
    method: 'GET',
    path: '/accounts/{id}/history',
    summary: 'Risk history, newest first, paged (limit, next)',
    handle: async (e, d) => {
      const id = accountId(e);
      const q = { data: parseQuery(e, historyQuery) };
      let start: Record<string, unknown> | undefined;
      if (q.data.next) {
        try {
          start = JSON.parse(Buffer.from(q.data.next, 'base64url').toString('utf8'));
        } catch {
          throw new HttpError(400, 'invalid-input', 'query.next: not a token from a previous page');
        }
      }
      const page = await d.queryHistory(id, q.data.limit, start);
      return json(200, {
        items: page.items,
        next: page.next ? Buffer.from(JSON.stringify(page.next)).toString('base64url') : null,
      });
    },
  },
  {
    method: 'GET',
    path: '/accounts/{id}/actions',
    summary: 'Audit trail of automated and manual actions, newest first',
    handle: async (e, d) => json(200, { items: await d.actions.listAudit(accountId(e)) }),
  },
  {
    method: 'POST',
    path: '/accounts/{id}/deleverage',
    summary: 'Manual deleverage (idempotent by requestId; audited)',
    body: orderBody,
    handle: (e, d) => manualOrders(e, d, 'deleverage'),
  },
  {
    method: 'POST',
    path: '/accounts/{id}/liquidate',
    summary: 'Manual liquidation (idempotent by requestId; audited)',
    body: orderBody,
    handle: (e, d) => manualOrders(e, d, 'liquidate'),
  },
  ...BROKER_CONTROL_ROUTES,
  ...INGEST_ROUTES,
  {
    method: 'POST',
    path: '/accounts/{id}/hold',
    summary: 'Acknowledge and hold: pause automated deleverage/liquidation for the account',
    body: holdBody,
    handle: async (e, d) => {
      const id = accountId(e);
      const body = parseBody(e, holdBody);
      const by = await actor(e, d);
      const hold = {
        accountId: id,
        reason: body.reason,
        by,
        at: (d.now?.() ?? new Date()).toISOString(),
      };
      await d.actions.setHold(hold);
      await d.actions.audit({
        accountId: id,
        action: 'hold',
        actor: by,
        details: { reason: body.reason },
      });
      await notifyManual(d, by, id, `hold placed (${body.reason})`, `hold:${hold.at}`);
      return json(200, hold);
    },
  },
  {
    method: 'DELETE',
    path: '/accounts/{id}/hold',
    summary: 'Release the hold: automation resumes at its next re-check',
    handle: async (e, d) => {
      const id = accountId(e);
      const by = await actor(e, d);
      const released = await d.actions.clearHold(id);
      if (released) {
        await d.actions.audit({ accountId: id, action: 'hold-released', actor: by });
        await notifyManual(d, by, id, 'hold released', `release:${(d.now?.() ?? new Date()).toISOString()}`);
      }
      return json(200, { accountId: id, released });
    },
  },
  ...(['config', 'alerts'] as const).flatMap((name): Route[] => {
    const schema = name === 'config' ? escalationConfigSchema : alertSettingsSchema;
    const key = name === 'config' ? 'escalation' : 'alerts';
    const toJson = (v: unknown) =>
      JSON.parse(JSON.stringify(v, (_k, x) => (x instanceof Decimal ? x.toFixed() : x)));
    return [
      {
        method: 'GET',
        path: `/${name}`,
        summary: `Current ${name} settings (defaults filled in)`,
        handle: async (_e, d) => json(200, toJson(await d.settings.get(key, schema))),
      },
      {
        method: 'PUT',
        path: `/${name}`,
        summary: `Replace the ${name} settings (validated)`,
        body: schema,
        handle: async (e, d) =>
          json(200, toJson(await replaceSettings(e, d, key, schema, `${name}-updated`))),
      },
    ];
  }),
];
