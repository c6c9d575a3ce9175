import { createHash } from 'node:crypto';
import type { Alert } from '../../shared/notify/alert.ts';
import { signAck } from '../../shared/notify/ack-token.ts';
import { decide } from '../../shared/notify/fatigue.ts';
import { firstStep, nextStep, type LadderStep, type PageState } from '../../shared/notify/ladder.ts';
import type { ChannelKind, NotificationPolicy, Route } from '../../shared/notify/policy.ts';
import {
  emailHtml,
  plainText,
  smsText,
  subjectOf,
  telegramText,
  type Links,
} from '../../shared/notify/render.ts';
import { digested, heldUntil, pages, routesFor } from '../../shared/notify/routing.ts';
import type { AuditEntry } from './actions-repository.ts';
import {
  deliverWithRetries,
  type ChannelSender,
  type Delivery,
  type RetryOptions,
} from './channels/delivery.ts';
import type { Notification } from '../../shared/escalation/messages.ts';
import type { Notifier } from './notifier.ts';
import type { NotifyStore } from './notify-store.ts';
import type { DeadLetter } from './queues.ts';

/** One line per delivery decision: sent, failed, held, suppressed (local mode: out/notifications.jsonl). */
export interface DeliveryRecord {
  at: string;
  alertId: string;
  accountId: string;
  category: string;
  severity: string;
  status: 'sent' | 'failed' | 'held' | 'digest' | 'suppressed' | 'duplicate';
  route?: string;
  channel?: ChannelKind | 'sns-topic';
  to?: string;
  text?: string;
  attempts?: number;
  reason?: string;
  page?: { pageId: string; tier: string; attempt: number };
}

export interface PagingStarter {
  /** Starts the page's ladder (one execution per page: a second start is a no-op). */
  start(pageId: string): Promise<void>;
}

export interface DispatcherDeps {
  policy: () => Promise<NotificationPolicy>;
  store: Pick<
    NotifyStore,
    | 'memory'
    | 'saveMemory'
    | 'claimDelivery'
    | 'settleDelivery'
    | 'createPage'
    | 'page'
    | 'advancePage'
    | 'acknowledge'
    | 'hold'
    | 'due'
    | 'release'
  >;
  senders: Record<ChannelKind, ChannelSender>;
  deadLetter: DeadLetter;
  /** Starts the on-call ladder of a page; absent where no page starts (the ladder's own steps). */
  paging?: PagingStarter;
  audit: (entry: AuditEntry) => Promise<void>;
  /** The SNS alerts and pages topics (raw subscriptions, severity attributes), if configured. */
  topics?: Notifier;
  log: (record: DeliveryRecord) => void;
  /** Signs acknowledgement links; the REST API's public /ack route verifies them. */
  ack: { secret: () => Promise<string>; baseUrl: string };
  now: () => Date;
  retry?: RetryOptions;
}

/** One page per incident: a second paging alert in the same incident joins the ladder already climbing. */
const pageIdOf = (alert: Alert) =>
  createHash('sha256')
    .update(alert.incidentId ? `${alert.accountId}\u0000${alert.incidentId}` : alert.id)
    .digest('hex')
    .slice(0, 24);

/**
 * Sends alerts where the notification policy says, as few times as on-call needs: alert fatigue
 * (`decide`) first, then per route quiet hours and digests, then the channel with retries — a delivery
 * that still fails is dead-lettered, never dropped. Pages start the on-call ladder.
 */
export class Dispatcher {
  constructor(private readonly d: DispatcherDeps) {}

  /** The notification policy in force (for callers that decide what to dispatch, e.g. predictive alerts). */
  policy(): Promise<NotificationPolicy> {
    return this.d.policy();
  }

  async dispatch(alert: Alert): Promise<{ sent: boolean; reason?: string; pageId?: string }> {
    const policy = await this.d.policy();
    for (let attempt = 0; ; attempt++) {
      const { memory, version } = await this.d.store.memory(alert.accountId);
      const decision = decide(memory, alert, policy.fatigue.quietPeriodMinutes);
      if (!(await this.d.store.saveMemory(alert.accountId, decision.memory, version))) {
        if (attempt < 5) continue;
        throw new Error(`alert memory of ${alert.accountId} kept changing`);
      }
      if (!decision.send) {
        this.log(alert, { status: 'suppressed', reason: decision.reason });
        await this.d.audit({
          accountId: alert.accountId,
          incidentId: alert.incidentId ?? undefined,
          action: 'alert-suppressed',
          actor: 'notifications',
          details: { category: alert.category, reason: decision.reason, headline: alert.headline },
        });
        return { sent: false, reason: decision.reason };
      }
      break;
    }
    const routes = routesFor(alert, policy);
    for (const route of routes) await this.deliver(route, alert, policy, 'alert');
    const page = pages(alert, policy);
    await this.d.topics?.notify('alerts', topicNotification(alert));
    if (page) await this.d.topics?.notify('pages', topicNotification(alert));
    await this.d.audit({
      accountId: alert.accountId,
      incidentId: alert.incidentId ?? undefined,
      action: 'notification',
      actor: 'notifications',
      details: {
        category: alert.category,
        severity: alert.severity,
        headline: alert.headline,
        routes: routes.map((r) => r.name),
        page,
      },
    });
    // A page climbs the on-call ladder when there is one; the SNS pages topic has it either way.
    if (!page || policy.onCall.length === 0 || !this.d.paging) return { sent: true };
    const pageId = pageIdOf(alert);
    const created = await this.d.store.createPage({
      pageId,
      alertId: alert.id,
      accountId: alert.accountId,
      incidentId: alert.incidentId,
      createdAt: alert.at,
      tier: 0,
      attempt: 0,
      ackedBy: null,
      ackedAt: null,
      alert,
    } as PageState & { alert: Alert });
    // Started even when the page existed: a retry after a failed start must still start it (a no-op if running).
    await this.d.paging.start(pageId);
    return { sent: true, pageId, ...(created ? {} : { reason: 'joined the incident’s page' }) };
  }

  /**
   * One rung of the on-call ladder, from the rung the workflow last saw (`from`; the first page starts
   * from tier 0, attempt 0). Acknowledged → done; otherwise the next rung is taken once: a retried step
   * finds the page already past `from` and pages nobody again.
   */
  async pageStep(
    action: 'start' | 'escalate',
    pageId: string,
    from: { tier: number; attempt: number } = { tier: 0, attempt: 0 },
  ): Promise<{
    pageId: string;
    done: boolean;
    waitSeconds: number;
    tier: number;
    attempt: number;
    note: string;
  }> {
    const policy = await this.d.policy();
    const page = (await this.d.store.page(pageId)) as (PageState & { alert: Alert }) | null;
    if (!page) throw new Error(`no page ${pageId}`);
    const at = action === 'start' ? { tier: 0, attempt: 0 } : from;
    const result = (done: boolean, note: string, rung = { tier: page.tier, attempt: page.attempt }) => ({
      pageId,
      done,
      waitSeconds: done ? 0 : (policy.onCall[rung.tier]?.ackMinutes ?? 0) * 60,
      ...rung,
      note,
    });
    if (page.ackedBy) return result(true, `acknowledged by ${page.ackedBy} at ${page.ackedAt}`);
    if (page.tier !== at.tier || page.attempt !== at.attempt) return result(false, 'rung already taken');
    const step: LadderStep = at.attempt === 0 ? firstStep(policy) : nextStep(page, policy);
    if (step.kind === 'acknowledged') return result(true, `acknowledged by ${step.by} at ${step.at}`);
    if (step.kind === 'exhausted') {
      await this.d.audit({
        accountId: page.accountId,
        incidentId: page.incidentId ?? undefined,
        action: 'page-exhausted',
        actor: 'notifications',
        details: { pageId, tiers: step.tiers },
      });
      return result(true, `no acknowledgement after ${step.tiers} tier(s)`);
    }
    const rung = { tier: step.tier, attempt: step.attempt };
    if (!(await this.d.store.advancePage(pageId, at, rung))) {
      // Acknowledged, or moved by a concurrent retry, between the read and the write: nobody is paged twice.
      const now = await this.d.store.page(pageId);
      return now?.ackedBy
        ? result(true, `acknowledged by ${now.ackedBy}`)
        : result(false, 'rung already taken', {
            tier: now?.tier ?? rung.tier,
            attempt: now?.attempt ?? rung.attempt,
          });
    }
    const alert: Alert = {
      ...page.alert,
      severity: 'critical',
      headline: `PAGE (${step.tierName}${step.attempt > 1 ? `, ${step.attempt}` : ''}): ${page.alert.headline}`,
    };
    for (const route of policy.routes.filter((r) => step.routes.includes(r.name)))
      await this.deliver(route, alert, policy, `page-t${step.tier}-a${step.attempt}`, {
        pageId,
        tier: step.tierName,
        attempt: step.attempt,
      });
    await this.d.audit({
      accountId: page.accountId,
      incidentId: page.incidentId ?? undefined,
      action:
        step.tier === 0 && step.attempt === 1
          ? 'page'
          : step.attempt === 1
            ? 'page-escalated'
            : 'page-repeated',
      actor: 'notifications',
      details: { pageId, tier: step.tierName, attempt: step.attempt, routes: step.routes },
    });
    return result(false, `paged ${step.tierName} (${step.attempt})`, rung);
  }

  /** Acknowledges a page (once): the ladder stops at its next rung; the audit trail says who and when. */
  acknowledge(pageId: string, by: string) {
    return acknowledgePage(this.d, pageId, by);
  }

  /** Sends what quiet hours held and what digests collected, once due (scheduled). */
  async flushHeld(): Promise<number> {
    const now = this.d.now();
    const due = await this.d.store.due(now);
    const digests = new Map<string, typeof due>();
    for (const held of due) {
      if (held.kind === 'digest')
        digests.set(held.delivery.route, [...(digests.get(held.delivery.route) ?? []), held]);
      else await this.send(held.delivery, held.alert, `held-${held.until}`);
      await this.d.store.release(held.actionKey);
    }
    for (const [route, items] of digests) {
      const first = items[0]!.delivery;
      const text = items
        .map((h) => `• ${h.alert.at.slice(0, 16).replace('T', ' ')}  ${subjectOf(h.alert)}`)
        .join('\n');
      const digestAlert: Alert = {
        ...items[0]!.alert,
        id: `digest:${route}:${now.toISOString()}`,
        headline: `digest: ${items.length} notification(s)`,
      };
      await this.send(
        {
          ...first,
          alertId: digestAlert.id,
          subject: `[Margin Guard] digest: ${items.length} notification(s)`,
          text,
          html: undefined,
        },
        digestAlert,
        'digest',
      );
    }
    return due.length;
  }

  private async deliver(
    route: Route,
    alert: Alert,
    policy: NotificationPolicy,
    tag: string,
    page?: DeliveryRecord['page'],
  ): Promise<void> {
    const links: Links = {
      ...(policy.consoleUrl
        ? {
            console: `${policy.consoleUrl.replace(/\/$/, '')}/#/accounts/${encodeURIComponent(alert.accountId)}`,
          }
        : {}),
      ...(page
        ? {
            ack: `${this.d.ack.baseUrl}?token=${signAck(page.pageId, new Date(this.d.now().getTime() + policy.ackLinkMinutes * 60_000), await this.d.ack.secret(), `link:${route.name}`)}`,
          }
        : {}),
    };
    const delivery = this.render(route, alert, links);
    const until = heldUntil(route, alert, this.d.now());
    if (until || digested(route, alert)) {
      const kind = until ? 'quiet-hours' : 'digest';
      const due = until ?? nextBoundary(this.d.now(), policy.fatigue.digestMinutes);
      await this.d.store.hold({ kind, until: due.toISOString(), delivery, alert });
      this.log(alert, {
        status: kind === 'digest' ? 'digest' : 'held',
        route: route.name,
        channel: route.channel,
        to: delivery.to,
        reason: `until ${due.toISOString()}`,
      });
      return;
    }
    await this.send(delivery, alert, tag, page);
  }

  private async send(
    delivery: Delivery,
    alert: Alert,
    tag: string,
    page?: DeliveryRecord['page'],
  ): Promise<void> {
    const key = `${delivery.alertId}#${delivery.route}#${tag}`;
    if (!(await this.d.store.claimDelivery(alert.accountId, key, this.d.now().toISOString()))) {
      this.log(alert, {
        status: 'duplicate',
        route: delivery.route,
        channel: delivery.channel,
        to: delivery.to,
        page,
      });
      return;
    }
    const outcome = await deliverWithRetries(this.d.senders[delivery.channel], delivery, this.d.retry);
    await this.d.store.settleDelivery(alert.accountId, key, outcome.status, outcome.attempts);
    this.log(alert, {
      status: outcome.status,
      route: delivery.route,
      channel: delivery.channel,
      to: delivery.to,
      text: delivery.text,
      attempts: outcome.attempts,
      page,
      ...(outcome.status === 'failed' ? { reason: outcome.error } : {}),
    });
    if (outcome.status === 'failed')
      await this.d.deadLetter.send(
        'notification-undeliverable',
        { delivery, attempts: outcome.attempts },
        outcome.error,
      );
  }

  private render(route: Route, alert: Alert, links: Links): Delivery {
    const base = {
      alertId: alert.id,
      route: route.name,
      channel: route.channel,
      severity: alert.severity,
      subject: subjectOf(alert),
    };
    switch (route.channel) {
      case 'telegram':
        return { ...base, to: route.chatId, text: telegramText(alert, links) };
      case 'email':
        return { ...base, to: route.address, text: plainText(alert, links), html: emailHtml(alert, links) };
      case 'sms':
        return { ...base, to: route.phoneNumber, text: smsText(alert, links) };
      default:
        return { ...base, to: '-', text: plainText(alert, links) };
    }
  }

  private log(
    alert: Alert,
    rest: Omit<DeliveryRecord, 'at' | 'alertId' | 'accountId' | 'category' | 'severity'>,
  ) {
    this.d.log({
      at: this.d.now().toISOString(),
      alertId: alert.id,
      accountId: alert.accountId,
      category: alert.category,
      severity: alert.severity,
      ...rest,
    });
  }
}

export interface Acknowledgement {
  pageId: string;
  accountId: string;
  ackedBy: string;
  ackedAt: string;
  /** False when it had been acknowledged already (by `ackedBy`). */
  first: boolean;
}

/** Acknowledges a page once and audits who and when; the REST API and the dispatcher share it. */
export async function acknowledgePage(
  d: Pick<DispatcherDeps, 'store' | 'audit' | 'now'> & { store: Pick<NotifyStore, 'acknowledge'> },
  pageId: string,
  by: string,
): Promise<Acknowledgement | null> {
  const result = await d.store.acknowledge(pageId, by, d.now().toISOString());
  if (!result) return null;
  if (result.first)
    await d.audit({
      accountId: result.page.accountId,
      incidentId: result.page.incidentId ?? undefined,
      action: 'page-acknowledged',
      actor: by,
      details: { pageId, tier: result.page.tier, attempt: result.page.attempt },
    });
  return {
    pageId,
    accountId: result.page.accountId,
    ackedBy: result.page.ackedBy!,
    ackedAt: result.page.ackedAt!,
    first: result.first,
  };
}

/** An alert as the SNS topics' notification (subject, text, and the attributes subscribers filter on). */
export function topicNotification(alert: Alert): Notification {
  const kinds: Partial<Record<Alert['category'], Notification['kind']>> = {
    recovery: 'resolved',
    deleverage: 'deleverage',
    liquidation: 'liquidation',
    system: 'failure',
  };
  return {
    subject: subjectOf(alert),
    message: plainText(alert),
    severity: alert.severity,
    level: alert.level,
    accountId: alert.accountId,
    kind: kinds[alert.category] ?? 'alert',
  };
}

/** No notification policy wired (tests, tools): alerts go to the SNS topics only, pages to both. */
export function topicsOnly(topics: Notifier): Pick<Dispatcher, 'dispatch'> {
  return {
    async dispatch(alert: Alert) {
      await topics.notify('alerts', topicNotification(alert));
      if (alert.page || alert.severity === 'critical') await topics.notify('pages', topicNotification(alert));
      return { sent: true };
    },
  };
}

function nextBoundary(now: Date, minutes: number): Date {
  const step = minutes * 60_000;
  return new Date(Math.ceil((now.getTime() + 1) / step) * step);
}
