import { createHash } from 'node:crypto';
import type { Alert } from '../../shared/notify/alert.ts';
import { recipientOf, signAck } from '../../shared/notify/ack-token.ts';
import { claimAlert, commitAlert, releaseAlert, type AlertMemory } from '../../shared/notify/fatigue.ts';
import { redactDelivery, redactText } from '../../shared/notify/redact.ts';
import { RetryLaterError } from '../../shared/errors.ts';
import { PermanentError } from './step-errors.ts';
import { firstStep, nextStep, type LadderStep, type PageState } from '../../shared/notify/ladder.ts';
import type { ChannelKind, NotificationPolicy, Route } from '../../shared/notify/policy.ts';
import { bucketsFor, take } from '../../shared/notify/rate-limit.ts';
import {
  emailHtml,
  plainText,
  smsText,
  subjectOf,
  telegramText,
  type Links,
} from '../../shared/notify/render.ts';
import { digested, heldUntil, pages, routesFor } from '../../shared/notify/routing.ts';
import {
  CLAIM_TTL_MS,
  conclude,
  consoleAccountLink,
  observe,
  STORM_EXEMPT_CHANNELS,
  stormGathers,
  stormHtml,
  stormSms,
  stormSubject,
  stormTelegram,
  stormText,
  summarize,
  type AlertIntent,
  type StormMessage,
  type StormState,
} from '../../shared/notify/storm.ts';
import type { AuditEntry } from './actions-repository.ts';
import {
  deliverWithRetries,
  type ChannelSender,
  type Delivery,
  type RetryOptions,
} from './channels/delivery.ts';
import type { Notification } from '../../shared/escalation/messages.ts';
import type { Notifier } from './notifier.ts';
import { STORM_PARTITION, type NotifyStore } from './notify-store.ts';
import type { DeadLetter } from './queues.ts';

/**
 * One line per delivery decision: sent, failed, held, suppressed (local mode: out/notifications.jsonl).
 * Redacted (shared/notify/redact.ts): `to` only where it is no contact (a topic, the webhook's '-'), the
 * text and reason without acknowledgement links, e-mail addresses or phone numbers.
 */
export interface DeliveryRecord {
  at: string;
  alertId: string;
  accountId: string;
  category: string;
  severity: string;
  /** `absorbed`: counted in a market-wide storm instead (storm mode); `deferred`: held by a channel's rate limit. */
  status: 'sent' | 'failed' | 'held' | 'digest' | 'suppressed' | 'duplicate' | 'absorbed' | 'deferred';
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
    | 'storm'
    | 'saveStorm'
    | 'addToShare'
    | 'shares'
    | 'rateBuckets'
    | 'saveRateBuckets'
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
  /** Waits for a channel's rate limit or a busy lease (default: a timer); a test's clock moves on instead. */
  sleep?: (ms: number) => Promise<void>;
  /** How long an alert's fatigue lease stands before another alert of the account may decide without it. @default FATIGUE_LEASE_MS */
  fatigueLeaseMs?: number;
  /** A message whose channel is at its limit waits up to this long in line, else is held for the flush. @default 5000 */
  rateWaitMs?: number;
  /** How long one flush may spend waiting in line to send what rate limits deferred (the rest waits for the next). @default 40000 */
  flushBudgetMs?: number;
  /** In [0, 1): the jitter of conflict retries (a simulation's seeded source). @default Math.random */
  random?: () => number;
  /** Waits out a conflict retry's backoff (a few ms; a simulation's virtual clock). @default a timer */
  backoffSleep?: (ms: number) => Promise<void>;
}

export interface DispatchResult {
  sent: boolean;
  reason?: string;
  pageId?: string;
  stormId?: string;
}

/**
 * An alert's fatigue lease (ms): longer than any function that dispatches may run (60 s), so a lease that
 * lapsed belongs to a dispatcher that is gone; the same alert retried takes its own lease over at once.
 */
export const FATIGUE_LEASE_MS = 90_000;
/** While another alert of the account is being delivered, re-read after these waits, then retry later. */
const BUSY_WAITS_MS = [100, 200, 400, 800, 1600] as const;

/** The market-wide storm's messages, pages and audit entries are filed under this account id. */
export const STORM_ACCOUNT = STORM_PARTITION;

/** Conflicts on the storm item are retried (many dispatchers write it in a storm), with jittered backoff. */
const STORM_ATTEMPTS = 40;
/** A jittered wait before conflict retry `attempt` (ms): below min(200, 5 × 2^attempt). */
const backoffMs = (attempt: number, random: () => number) =>
  random() * Math.min(200, 5 * 2 ** Math.min(attempt, 6));

/**
 * The page an alert climbs the ladder on. Under `ackScope: incident` one page per incident: a second
 * paging alert of the incident joins the ladder already climbing (or acknowledged). Under `page` each
 * paging alert has its own (an alert without an incident always does).
 */
const pageIdOf = (alert: Alert, scope: NotificationPolicy['ackScope']) =>
  createHash('sha256')
    .update(
      alert.incidentId && scope === 'incident' ? `${alert.accountId}\u0000${alert.incidentId}` : alert.id,
    )
    .digest('hex')
    .slice(0, 24);

/** One page per storm. */
const stormPageIdOf = (stormId: string) =>
  createHash('sha256').update(`\u0000storm\u0000${stormId}`).digest('hex').slice(0, 24);

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

  async dispatch(alert: Alert): Promise<DispatchResult> {
    const policy = await this.d.policy();
    const routes = routesFor(alert, policy);
    const page = pages(alert, policy);
    const fatigue = await this.claimFatigue(alert, policy);
    if (fatigue.kind === 'suppressed') {
      this.log(alert, { status: 'suppressed', reason: fatigue.reason });
      await this.d.audit({
        accountId: alert.accountId,
        incidentId: alert.incidentId ?? undefined,
        action: 'alert-suppressed',
        actor: 'notifications',
        details: { category: alert.category, reason: fatigue.reason, headline: alert.headline },
      });
      return { sent: false, reason: fatigue.reason };
    }
    let result: DispatchResult;
    try {
      result = await this.deliverAlert(alert, routes, page, policy);
    } catch (e) {
      // Nothing is remembered of a delivery that failed: the retry decides afresh and delivers.
      if (fatigue.kind === 'claimed') await this.releaseFatigue(alert).catch(() => {});
      throw e;
    }
    if (fatigue.kind === 'claimed') await this.commitFatigue(alert, fatigue, policy);
    return result;
  }

  /**
   * Alert fatigue's claim (shared/notify/fatigue.ts `claimAlert`): a suppression is saved at once; an
   * alert to deliver saves a lease, so the account's memory says what was sent only once it was. While
   * another alert of the account holds a live lease, this one waits a little, then asks to be retried.
   */
  private async claimFatigue(
    alert: Alert,
    policy: NotificationPolicy,
  ): Promise<
    | { kind: 'deliver' }
    | { kind: 'suppressed'; reason: string }
    | { kind: 'claimed'; version: number; commit: AlertMemory }
  > {
    const leaseMs = this.d.fatigueLeaseMs ?? FATIGUE_LEASE_MS;
    let conflicts = 0;
    for (let waited = 0; ;) {
      const { memory, version } = await this.d.store.memory(alert.accountId);
      const now = this.d.now().getTime();
      const claim = claimAlert(memory, alert, policy.fatigue.quietPeriodMinutes, now, leaseMs);
      if (claim.kind === 'deliver') return claim;
      if (claim.kind === 'busy') {
        if (waited >= BUSY_WAITS_MS.length)
          throw new RetryLaterError(
            'alert-memory-busy',
            `another alert of ${alert.accountId} is being delivered (lease until ${new Date(claim.until).toISOString()})`,
            claim.until - now,
          );
        await this.pause(BUSY_WAITS_MS[waited++]!);
        continue;
      }
      const next = claim.kind === 'suppress' ? claim.memory : claim.claimed;
      if (await this.d.store.saveMemory(alert.accountId, next, version))
        return claim.kind === 'suppress'
          ? { kind: 'suppressed', reason: claim.reason }
          : { kind: 'claimed', version: version + 1, commit: claim.commit };
      if (++conflicts > 5)
        throw new RetryLaterError('notify-contended', `alert memory of ${alert.accountId} kept changing`);
    }
  }

  /** After the delivery: what it said is remembered (merged again if the item moved meanwhile). */
  private async commitFatigue(
    alert: Alert,
    claim: { version: number; commit: AlertMemory },
    policy: NotificationPolicy,
  ): Promise<void> {
    let { version, commit: memory } = claim;
    for (let attempt = 0; attempt < 6; attempt++) {
      if (await this.d.store.saveMemory(alert.accountId, memory, version)) return;
      const current = await this.d.store.memory(alert.accountId);
      memory = commitAlert(current.memory, alert, policy.fatigue.quietPeriodMinutes);
      version = current.version;
    }
    throw new RetryLaterError('notify-contended', `alert memory of ${alert.accountId} kept changing`);
  }

  /** A failed delivery lets its lease go at once (best effort: a lease that stays simply lapses). */
  private async releaseFatigue(alert: Alert): Promise<void> {
    const { memory, version } = await this.d.store.memory(alert.accountId);
    const released = releaseAlert(memory, alert);
    if (released !== memory) await this.d.store.saveMemory(alert.accountId, released, version);
  }

  private pause(ms: number): Promise<void> {
    return (this.d.sleep ?? ((t) => new Promise((r) => setTimeout(r, t))))(ms);
  }

  /** Before retrying a lost conditional write (storm item, rate buckets): a short jittered wait. */
  private backoff(attempt: number): Promise<void> {
    const ms = backoffMs(attempt, this.d.random ?? Math.random);
    return (this.d.backoffSleep ?? ((t) => new Promise<void>((r) => setTimeout(r, t))))(ms);
  }

  /** Everything an alert that fatigue let through sends: storm mode, routes, topics, audit, the page. */
  private async deliverAlert(
    alert: Alert,
    routes: Route[],
    page: boolean,
    policy: NotificationPolicy,
  ): Promise<DispatchResult> {
    // Storm mode sees the alerts that reach people (alert fatigue has decided that, as before).
    if (stormGathers(policy, alert.category)) {
      const storm = await this.throughStorm(intentOf(alert, routes, page), policy);
      // A storm that had calmed before this alert came ends first (its final summary), then the alert.
      for (const m of storm.messages.filter((x) => x.kind === 'end')) await this.sendStorm(m, policy);
      if (storm.absorbed) return this.absorbed(alert, storm, routes, policy);
    }
    for (const route of routes) await this.deliver(route, alert, policy, 'alert');
    await this.notifyTopic('alerts', topicNotification(alert), alert, policy);
    if (page) await this.notifyTopic('pages', topicNotification(alert), alert, policy, true);
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
    const pageId = pageIdOf(alert, policy.ackScope);
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
   * One alert through storm mode (shared/notify/storm.ts) against the store: alone while calm (the calm
   * window is saved conditionally), the alert that starts a storm, or absorbed into the one that is on —
   * merged into its account's share without a read or a condition; when a message may be due, the
   * dispatcher that saves the claim reads the shares and concludes (update, or the end) for everyone.
   */
  private async throughStorm(
    intent: AlertIntent,
    policy: NotificationPolicy,
  ): Promise<{
    absorbed: boolean;
    stormId?: string;
    messages: StormMessage[];
    pageStorm: StormMessage | null;
  }> {
    for (let attempt = 0; attempt < STORM_ATTEMPTS; attempt++) {
      const current = await this.d.store.storm();
      const now = this.d.now().getTime();
      const o = observe(current.state, intent, now, policy.storm);
      if (o.kind === 'alone') {
        if (await this.d.store.saveStorm(o.state, current.version))
          return { absorbed: false, messages: [], pageStorm: null };
      } else if (o.kind === 'start') {
        if (await this.d.store.saveStorm(o.state, current.version)) {
          // After the save: a starter that lost the race must not leave a share in the winner's storm
          // (concurrent starters in one millisecond name the same storm).
          await this.d.store.addToShare(o.state.storm!.id, intent, o.share.at);
          return {
            absorbed: true,
            stormId: o.state.storm!.id,
            messages: [o.message],
            pageStorm: o.pageStorm,
          };
        }
      } else {
        if (o.due && (await this.d.store.saveStorm(o.due, current.version))) {
          const c = conclude(o.due, await this.d.store.shares(o.stormId), now, policy.storm, intent);
          // Saved over our own claim (version + 1): only a claim that lapsed and was taken over fails.
          if (await this.d.store.saveStorm(c.state, current.version + 1)) {
            if (c.share) await this.d.store.addToShare(c.state.storm?.id ?? o.stormId, intent, c.share.at);
            return {
              absorbed: c.absorbed,
              stormId: c.state.storm?.id,
              messages: c.messages,
              pageStorm: c.pageStorm,
            };
          }
        }
        // Someone else concludes (or it is not due): this alert is one more in its account's share.
        await this.d.store.addToShare(o.stormId, intent, Math.min(Date.parse(intent.at) || now, now));
        return {
          absorbed: true,
          stormId: o.stormId,
          messages: [],
          pageStorm: o.claimPage ? await this.claimStormPage(o.stormId, policy, now) : null,
        };
      }
      await this.backoff(attempt);
    }
    throw new RetryLaterError('notify-contended', 'storm state kept changing');
  }

  /** The storm's one page: whoever marks the storm paged starts its ladder. */
  private async claimStormPage(stormId: string, policy: NotificationPolicy, now: number) {
    for (let attempt = 0; attempt < STORM_ATTEMPTS; attempt++) {
      const { state, version } = await this.d.store.storm();
      if (!state.storm || state.storm.id !== stormId || state.storm.paged) return null;
      const next: StormState = { ...state, storm: { ...state.storm, paged: true } };
      if (await this.d.store.saveStorm(next, version))
        return this.stormMessage(next, 'start', -1, policy, now);
      await this.backoff(attempt);
    }
    return null;
  }

  /** A message of the storm as it stands (its shares summed), e.g. for its page. */
  private async stormMessage(
    state: StormState,
    kind: StormMessage['kind'],
    seq: number,
    policy: NotificationPolicy,
    now: number,
  ): Promise<StormMessage> {
    const shares = await this.d.store.shares(state.storm!.id);
    return {
      kind,
      seq,
      at: new Date(now).toISOString(),
      storm: summarize(state.storm!, shares, policy.storm.worstAccounts),
      policy: {
        windowSeconds: policy.storm.windowSeconds,
        updateSeconds: policy.storm.updateSeconds,
        endAccounts: policy.storm.endAccounts,
        startAccounts: policy.storm.startAccounts,
      },
    };
  }

  /**
   * An alert counted in the storm: people hear the storm's messages instead (the console still lists the
   * account); the storm's first message, a due update and its one page go out from here.
   */
  private async absorbed(
    alert: Alert,
    storm: { stormId?: string; messages: StormMessage[]; pageStorm: StormMessage | null },
    routes: Route[],
    policy: NotificationPolicy,
  ) {
    const stormId = storm.stormId!;
    for (const route of routes.filter((r) => STORM_EXEMPT_CHANNELS.includes(r.channel)))
      await this.deliver(route, alert, policy, 'alert');
    this.log(alert, { status: 'absorbed', reason: `counted in ${stormId}` });
    await this.d.audit({
      accountId: alert.accountId,
      incidentId: alert.incidentId ?? undefined,
      action: 'alert-suppressed',
      actor: 'notifications',
      details: {
        category: alert.category,
        reason: 'counted-in-storm',
        storm: stormId,
        headline: alert.headline,
        routes: routes.map((r) => r.name),
      },
    });
    for (const m of storm.messages.filter((x) => x.kind !== 'end')) await this.sendStorm(m, policy);
    const pageId = storm.pageStorm ? await this.pageStorm(storm.pageStorm, policy) : undefined;
    return { sent: false, reason: 'counted-in-storm', stormId, ...(pageId ? { pageId } : {}) };
  }

  /** One storm message to every route of the storm and to the SNS alerts topic (pages topic too if it paged). */
  private async sendStorm(m: StormMessage, policy: NotificationPolicy): Promise<void> {
    const alert = stormAlert(m);
    for (const name of m.storm.routes) {
      const route = policy.routes.find((r) => r.name === name);
      if (!route) continue;
      await this.deliverPrepared(
        route,
        renderStorm(route, m, alert, policy.consoleUrl),
        alert,
        policy,
        `storm-${m.kind}`,
        undefined,
        true,
      );
    }
    const notification = stormNotification(m, policy.consoleUrl);
    await this.notifyTopic('alerts', notification, alert, policy, true);
    if (m.kind === 'end' && m.storm.paged) await this.notifyTopic('pages', notification, alert, policy, true);
    await this.d.audit({
      accountId: STORM_ACCOUNT,
      incidentId: m.storm.id,
      action: m.kind === 'start' ? 'storm-started' : m.kind === 'update' ? 'storm-updated' : 'storm-ended',
      actor: 'notifications',
      details: {
        seq: m.seq,
        accounts: m.storm.accounts,
        alerts: m.storm.intents,
        levels: m.storm.levels,
        shortfall: m.storm.shortfall,
        routes: m.storm.routes,
        ...(m.endedAt ? { endedAt: m.endedAt } : {}),
      },
    });
  }

  /** The storm's one page: one ladder for the storm however many of its alerts would page. */
  private async pageStorm(m: StormMessage, policy: NotificationPolicy): Promise<string | undefined> {
    const alert = stormAlert(m);
    await this.notifyTopic('pages', stormNotification(m, policy.consoleUrl), alert, policy, true);
    if (policy.onCall.length === 0 || !this.d.paging) return undefined;
    const pageId = stormPageIdOf(m.storm.id);
    await this.d.store.createPage({
      pageId,
      alertId: alert.id,
      accountId: STORM_ACCOUNT,
      incidentId: m.storm.id,
      createdAt: m.at,
      tier: 0,
      attempt: 0,
      ackedBy: null,
      ackedAt: null,
      alert,
      storm: m,
    } as PageState & { alert: Alert; storm: StormMessage });
    await this.d.paging.start(pageId);
    return pageId;
  }

  /**
   * A storm is marked paged before its page goes out (so concurrent dispatchers page it once); if the one
   * that marked it failed or died on the way, the flush finishes it: the page and its ladder (the pages
   * topic message is claimed, so it is not published twice).
   */
  private async ensureStormPage(state: StormState, policy: NotificationPolicy, now: number): Promise<void> {
    if (policy.onCall.length === 0 || !this.d.paging) return;
    const pageId = stormPageIdOf(state.storm!.id);
    const page = await this.d.store.page(pageId);
    if (!page) await this.pageStorm(await this.stormMessage(state, 'start', -1, policy, now), policy);
    // Not paged yet (its first step has not run): the start may have failed; started again (a no-op if running).
    else if (page.attempt === 0 && !page.ackedBy) await this.d.paging.start(pageId);
  }

  /**
   * The storm's clock (the scheduled flush calls it): sends the update that came due while no alert
   * arrived, or the final summary once it is calm. The conditional write decides who sends it.
   */
  async stormTick(policy?: NotificationPolicy): Promise<number> {
    const p = policy ?? (await this.d.policy());
    for (let attempt = 0; attempt < STORM_ATTEMPTS; attempt++) {
      const current = await this.d.store.storm();
      const storm = current.state.storm;
      const now = this.d.now().getTime();
      if (attempt === 0 && storm?.paged) await this.ensureStormPage(current.state, p, now);
      // Nothing to do without a storm, or while another dispatcher's claim to conclude it stands.
      if (!storm || (storm.claimedAt !== null && now - storm.claimedAt < CLAIM_TTL_MS)) return 0;
      // Claim first, so concurrent ticks (and absorbers) read the shares once.
      const claim: StormState = { ...current.state, storm: { ...storm, claimedAt: now } };
      if (!(await this.d.store.saveStorm(claim, current.version))) {
        await this.backoff(attempt);
        continue;
      }
      // Concluded, the claim is released (or the storm is over).
      const next = conclude(claim, await this.d.store.shares(storm.id), now, p.storm, null);
      if (!(await this.d.store.saveStorm(next.state, current.version + 1))) return 0;
      for (const m of next.messages) await this.sendStorm(m, p);
      return next.messages.length;
    }
    return 0;
  }

  /**
   * One rung of the on-call ladder, from the rung the workflow last saw (`from`; the first page starts
   * from tier 0, attempt 0). Acknowledged → done; otherwise the next rung is delivered, then taken
   * (conditionally on `from`): a step that failed before taking it is retried and delivers what is
   * missing; a retried step that finds the page already past `from` pages nobody again.
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
    const page = (await this.d.store.page(pageId)) as
      (PageState & { alert: Alert; storm?: StormMessage }) | null;
    if (!page) throw new PermanentError('PageNotFound', `no page ${pageId}`);
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
    const alert: Alert = {
      ...page.alert,
      severity: 'critical',
      headline: `PAGE (${step.tierName}${step.attempt > 1 ? `, ${step.attempt}` : ''}): ${page.alert.headline}`,
    };
    const tag = `page-t${step.tier}-a${step.attempt}`;
    const rungOf = { pageId, tier: step.tierName, attempt: step.attempt };
    const storm = page.storm ? await this.latestStorm(page.storm, policy) : null;
    // Delivered first, then the rung is taken: a step that fails on the way is retried from the same rung
    // and delivers what did not go out (each route's delivery is claimed once: nobody is paged twice).
    for (const route of policy.routes.filter((r) => step.routes.includes(r.name))) {
      if (!storm) {
        await this.deliver(route, alert, policy, tag, rungOf);
        continue;
      }
      // The storm's page says how the storm stands now, with the one-click acknowledgement.
      const ack = await this.ackLink(route, pageId, policy);
      const delivery = renderStorm(route, storm, alert, policy.consoleUrl, ack);
      await this.deliverPrepared(route, delivery, alert, policy, tag, rungOf, true);
    }
    // Audited once delivered and before the rung is taken: a step that fails after taking it is retried as
    // "rung already taken" and would never audit it (a retry after the audit may audit the rung twice).
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
    if (!(await this.d.store.advancePage(pageId, at, rung))) {
      // Acknowledged, or moved by a concurrent retry, between the read and the write.
      const now = await this.d.store.page(pageId);
      return now?.ackedBy
        ? result(true, `acknowledged by ${now.ackedBy}`)
        : result(false, 'rung already taken', {
            tier: now?.tier ?? rung.tier,
            attempt: now?.attempt ?? rung.attempt,
          });
    }
    return result(false, `paged ${step.tierName} (${step.attempt})`, rung);
  }

  /** Acknowledges a page (once): the ladder stops at its next rung; the audit trail says who and when. */
  acknowledge(pageId: string, by: string) {
    return acknowledgePage(this.d, pageId, by);
  }

  /**
   * Sends what quiet hours held, what digests collected and what a rate limit deferred, once due
   * (scheduled); then the storm's clock (a due update, or its final summary).
   */
  async flushHeld(): Promise<number> {
    const policy = await this.d.policy();
    const now = this.d.now();
    const deadline = now.getTime() + (this.d.flushBudgetMs ?? 40_000);
    const due = await this.d.store.due(now);
    const digests = new Map<string, typeof due>();
    // One item's failure does not hold up the others; it stays held and the first error is thrown after.
    let failure: unknown = null;
    const each = async (work: () => Promise<void>) => {
      try {
        await work();
      } catch (e) {
        // Claimed by a concurrent flush (or still leased by one that died): it stays held for that one.
        if (!(e instanceof RetryLaterError)) failure ??= e;
      }
    };
    for (const held of due) {
      // Within the budget a deferred message waits in line for its token; past it, it is held again.
      const wait = Math.max(0, deadline - this.d.now().getTime());
      if (held.kind === 'digest') {
        digests.set(held.delivery.route, [...(digests.get(held.delivery.route) ?? []), held]);
        continue;
      }
      await each(async () => {
        if (held.topic)
          await this.notifyTopic(
            held.topic.channel,
            held.topic.notification,
            held.alert,
            policy,
            held.priority,
            wait,
          );
        else
          await this.send(
            held.delivery,
            held.alert,
            held.kind === 'rate-limited' && held.tag ? held.tag : `held-${held.until}`,
            policy,
            held.page,
            held.priority,
            wait,
          );
        await this.d.store.release(held.actionKey);
      });
    }
    for (const [route, items] of digests) {
      const first = items[0]!.delivery;
      const text = items
        .map((h) => `• ${h.alert.at.slice(0, 16).replace('T', ' ')}  ${subjectOf(h.alert)}`)
        .join('\n');
      // Named by what it holds, so a retried or concurrent flush of the same items sends it once.
      const digestAlert: Alert = {
        ...items[0]!.alert,
        id: `digest:${route}:${createHash('sha256')
          .update(items.map((h) => h.actionKey).join('\u0000'))
          .digest('hex')
          .slice(0, 16)}`,
        headline: `digest: ${items.length} notification(s)`,
      };
      await each(async () => {
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
          policy,
        );
        // Released once the digest has gone (or was dead-lettered), never before.
        for (const h of items) await this.d.store.release(h.actionKey);
      });
    }
    // Then the storm's clock: what was deferred (an earlier storm message too) has gone before its update.
    await this.stormTick(policy);
    if (failure) throw failure;
    return due.length;
  }

  /** The storm as it stands now if it is the page's and still on; the page's own snapshot otherwise. */
  private async latestStorm(m: StormMessage, policy: NotificationPolicy): Promise<StormMessage> {
    const { state } = await this.d.store.storm();
    return state.storm?.id === m.storm.id
      ? { ...(await this.stormMessage(state, m.kind, m.seq, policy, this.d.now().getTime())), kind: m.kind }
      : m;
  }

  private async ackLink(route: Route, pageId: string, policy: NotificationPolicy): Promise<string> {
    const expires = new Date(this.d.now().getTime() + policy.ackLinkMinutes * 60_000);
    const token = signAck(
      { pageId, recipient: recipientOf(route), expiresAt: expires },
      await this.d.ack.secret(),
    );
    return `${this.d.ack.baseUrl}?token=${token}`;
  }

  private async deliver(
    route: Route,
    alert: Alert,
    policy: NotificationPolicy,
    tag: string,
    page?: DeliveryRecord['page'],
  ): Promise<void> {
    const links: Links = {
      ...(policy.consoleUrl ? { console: consoleAccountLink(policy.consoleUrl, alert.accountId) } : {}),
      ...(page ? { ack: await this.ackLink(route, page.pageId, policy) } : {}),
    };
    await this.deliverPrepared(route, this.render(route, alert, links), alert, policy, tag, page, !!page);
  }

  /** Quiet hours and digests hold a rendered delivery; otherwise it is sent. */
  private async deliverPrepared(
    route: Route,
    delivery: Delivery,
    alert: Alert,
    policy: NotificationPolicy,
    tag: string,
    page?: DeliveryRecord['page'],
    priority = false,
  ): Promise<void> {
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
    await this.send(delivery, alert, tag, policy, page, priority);
  }

  /**
   * A token from each of the channel's buckets (shared/notify/rate-limit.ts), waiting in line up to
   * `rateWaitMs`; beyond that, the time it may go (the caller holds it until then: deferred, never dropped).
   */
  private async admit(
    channel: ChannelKind | 'topic',
    to: string,
    policy: NotificationPolicy,
    priority: boolean,
    maxWait = this.d.rateWaitMs ?? 5000,
  ): Promise<{ ok: true } | { ok: false; retryAt: number }> {
    const limited = bucketsFor(channel, to, policy.rateLimits);
    if (!limited) return { ok: true };
    for (let attempt = 0; attempt < STORM_ATTEMPTS; attempt++) {
      const now = this.d.now().getTime();
      const { buckets, version } = await this.d.store.rateBuckets(limited.channel);
      const taken = take(buckets, limited.needs, now, priority);
      if (taken.ok) {
        if (await this.d.store.saveRateBuckets(limited.channel, taken.buckets, version)) return { ok: true };
        await this.backoff(attempt);
        continue;
      }
      if (taken.retryAt - now > maxWait) return taken;
      await this.pause(taken.retryAt - now);
      // A clock that does not move (a replay's bar) would wait for ever: hold it for the flush instead.
      if (this.d.now().getTime() <= now) return taken;
    }
    return { ok: false, retryAt: this.d.now().getTime() + 1000 };
  }

  /** An SNS topic message, within the topic's rate limit (deferred beyond it, never dropped). */
  private async notifyTopic(
    channel: 'alerts' | 'pages',
    notification: Notification,
    alert: Alert,
    policy: NotificationPolicy,
    priority = false,
    maxWait?: number,
  ): Promise<void> {
    if (!this.d.topics) return;
    // Claimed like any delivery, so a retried dispatch does not publish what went out before it failed.
    const key = `${alert.id}#sns-${channel}#topic`;
    if (!(await this.claim(alert, key, { channel: 'sns-topic', to: channel }))) return;
    const gate = await this.admit('topic', channel, policy, priority, maxWait);
    if (!gate.ok) {
      const until = new Date(gate.retryAt).toISOString();
      await this.d.store.hold({
        kind: 'rate-limited',
        until,
        alert,
        priority,
        topic: { channel, notification },
        delivery: {
          alertId: alert.id,
          route: `sns-${channel}`,
          channel: 'websocket',
          to: channel,
          severity: notification.severity,
          subject: notification.subject,
          text: '',
        },
      });
      await this.d.store.settleDelivery(alert.accountId, key, 'deferred', 0);
      this.log(alert, {
        status: 'deferred',
        channel: 'sns-topic',
        to: channel,
        reason: `rate limit: until ${until}`,
      });
      return;
    }
    try {
      await this.d.topics.notify(channel, notification);
    } catch (e) {
      // Let go at once, so the retry (the step's, the queue's) publishes it.
      await this.d.store.settleDelivery(alert.accountId, key, 'failed', 1).catch(() => {});
      throw e;
    }
    await this.d.store.settleDelivery(alert.accountId, key, 'sent', 1);
  }

  private async send(
    delivery: Delivery,
    alert: Alert,
    tag: string,
    policy: NotificationPolicy,
    page?: DeliveryRecord['page'],
    priority = false,
    maxWait?: number,
  ): Promise<void> {
    const key = `${delivery.alertId}#${delivery.route}#${tag}`;
    if (
      !(await this.claim(alert, key, {
        route: delivery.route,
        channel: delivery.channel,
        to: delivery.to,
        page,
      }))
    )
      return;
    // Claimed first, so a duplicate never spends a token; deferred, the claim is let go for the retry.
    const gate = await this.admit(delivery.channel, delivery.to, policy, priority, maxWait);
    if (!gate.ok) {
      const until = new Date(gate.retryAt).toISOString();
      await this.d.store.hold({ kind: 'rate-limited', until, delivery, alert, tag, page, priority });
      await this.d.store.settleDelivery(alert.accountId, key, 'deferred', 0);
      this.log(alert, {
        status: 'deferred',
        route: delivery.route,
        channel: delivery.channel,
        to: delivery.to,
        page,
        reason: `rate limit: until ${until}`,
      });
      return;
    }
    let outcome: Awaited<ReturnType<typeof deliverWithRetries>>;
    try {
      outcome = await deliverWithRetries(this.d.senders[delivery.channel], delivery, this.d.retry);
    } catch (e) {
      if (!(e instanceof RetryLaterError)) throw e;
      // The provider asked for longer than a function may wait (Telegram's retry_after): held until then
      // and sent by the flush, like a rate limit's deferral — never dropped, and the step is not failed.
      const until = new Date(this.d.now().getTime() + (e.retryAfterMs ?? 0)).toISOString();
      await this.d.store.hold({ kind: 'rate-limited', until, delivery, alert, tag, page, priority });
      await this.d.store.settleDelivery(alert.accountId, key, 'deferred', 0);
      this.log(alert, {
        status: 'deferred',
        route: delivery.route,
        channel: delivery.channel,
        to: delivery.to,
        page,
        reason: `${e.message}: until ${until}`,
      });
      return;
    }
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
        // The route and alert name it; the recipient and a live acknowledgement link stay out of the queue.
        { delivery: redactDelivery(delivery), attempts: outcome.attempts },
        redactText(outcome.error),
      );
  }

  /**
   * Claims one delivery (functions/lib/notify-store.ts: a conditional write with a lease). False: it was
   * sent already (a duplicate, logged). Claimed by another attempt whose lease stands: it may be sending
   * right now, so this one neither sends nor gives up — it asks to be retried after the lease.
   */
  private async claim(
    alert: Alert,
    key: string,
    where: Pick<DeliveryRecord, 'route' | 'channel' | 'to' | 'page'>,
  ): Promise<boolean> {
    const now = this.d.now();
    const claim = await this.d.store.claimDelivery(alert.accountId, key, now.toISOString());
    if (claim.claimed) return true;
    if (claim.status === 'claimed')
      throw new RetryLaterError(
        'delivery-in-flight',
        `delivery ${key} is claimed by another attempt until ${new Date(claim.until).toISOString()}`,
        Math.max(0, claim.until - now.getTime()),
      );
    this.log(alert, { status: 'duplicate', ...where });
    return false;
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
      // No recipient, e-mail, phone number or live acknowledgement link in a log (the route names it).
      ...redactDelivery(rest),
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

/**
 * Acknowledges a page once and audits who and when; the REST API (`POST /pages/{id}/ack`, the console:
 * `by` is the signed-in person) and the dispatcher share it. One-click links go through
 * functions/lib/ack-links.ts instead (single use, recipient-bound).
 */
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
      details: { pageId, tier: result.page.tier, attempt: result.page.attempt, via: 'signed-in' },
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

/** An alert as storm mode sees it: who, which level, the shortfall and ratio, where it would go. */
function intentOf(alert: Alert, routes: Route[], page: boolean): AlertIntent {
  return {
    accountId: alert.accountId,
    category: alert.category,
    severity: alert.severity,
    to: alert.level,
    shortfall: alert.shortfall ?? null,
    ratio: alert.marginRatio,
    at: alert.at,
    routes: routes.map((r) => r.name),
    page,
  };
}

const CATEGORY_RANK: Alert['category'][] = [
  'liquidation',
  'liquidation-approaching',
  'system',
  'critical',
  'deleverage',
  'warning',
  'approaching',
  'recovery',
  'manual-action',
];

/** The storm message as an alert: what claims, holds, logs and pages key on (filed under `#storm`). */
function stormAlert(m: StormMessage): Alert {
  const s = m.storm;
  const worst = s.worst[0];
  const level = (['LIQUIDATION', 'CRITICAL', 'WARNING', 'SAFE'] as const).find((l) => s.levels[l]) ?? null;
  return {
    id: `storm:${s.id}:${m.seq < 0 ? 'page' : m.seq}`,
    category: CATEGORY_RANK.find((c) => s.categories[c]) ?? 'system',
    severity: s.severity,
    accountId: STORM_ACCOUNT,
    incidentId: s.id,
    level,
    marginRatio: worst?.ratio ?? null,
    callMove: null,
    headline: stormSubject(m).replace(/^\[Margin Guard\] /, ''),
    next:
      m.kind === 'end'
        ? 'per-account alerts resume'
        : `updates every ${m.policy.updateSeconds}s while more than ${m.policy.endAccounts - 1} accounts alert per ${m.policy.windowSeconds}s`,
    at: m.at,
  };
}

/** A storm message for one route, in that channel's form (and the page's acknowledgement link). */
function renderStorm(
  route: Route,
  m: StormMessage,
  alert: Alert,
  consoleUrl?: string,
  ack?: string,
): Delivery {
  const base = {
    alertId: alert.id,
    route: route.name,
    channel: route.channel,
    severity: alert.severity,
    subject: stormSubject(m),
  };
  const tail = (sep: string) => (ack ? `${sep}Acknowledge: ${ack}` : '');
  switch (route.channel) {
    case 'telegram':
      return {
        ...base,
        to: route.chatId,
        text: `${stormTelegram(m, consoleUrl)}${ack ? `\n[Acknowledge](${ack.replace(/[)\\]/g, (c) => `\\${c}`)})` : ''}`,
      };
    case 'email':
      return {
        ...base,
        to: route.address,
        text: `${stormText(m, consoleUrl)}${tail('\n')}`,
        html: stormHtml(m, consoleUrl, ack),
      };
    case 'sms':
      return {
        ...base,
        to: route.phoneNumber,
        text: `${stormSms(m, consoleUrl)}${ack ? `. Ack: ${ack}` : ''}`,
      };
    default:
      return { ...base, to: '-', text: `${stormText(m, consoleUrl)}${tail('\n')}` };
  }
}

/** A storm message as the SNS topics' notification. */
function stormNotification(m: StormMessage, consoleUrl?: string): Notification {
  const alert = stormAlert(m);
  return {
    subject: stormSubject(m),
    message: stormText(m, consoleUrl),
    severity: alert.severity,
    level: alert.level,
    accountId: STORM_ACCOUNT,
    kind: m.kind === 'end' ? 'resolved' : 'alert',
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
