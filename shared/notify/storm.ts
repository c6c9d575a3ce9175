import { Decimal } from '../decimal.ts';
import type { RiskLevel } from '../risk/levels.ts';
import {
  severityRank,
  STORM_DEFAULTS,
  type AlertCategory,
  type ChannelKind,
  type NotificationPolicy,
  type Route,
  type Severity,
} from './policy.ts';
import { bucketsFor, take, type BucketChannel, type Buckets, type RateLimits } from './rate-limit.ts';
import { escapeMarkdownV2 } from './render.ts';
import { pages, routesFor } from './routing.ts';

/**
 * Storm mode: when a market-wide move changes the risk of thousands of accounts within seconds, people
 * get one market-wide incident message per route — then updates, then a final summary — instead of one
 * alert per account that no channel can carry (SES 14/s, a Telegram group 20/min, a Slack webhook 1/s)
 * and no person can read. Brokers are not affected: every account event still goes to the bus.
 *
 * - **Start**: more than `startAccounts` (N) distinct accounts had an alert for people within the sliding
 *   window of `windowSeconds` (W). The alert that makes it N + 1 starts the storm and is its first.
 * - **During**: each per-account alert is *absorbed*: counted in the storm, not sent to people. Each
 *   message reports accounts per level (as each last reported), alerts per category, the exact total
 *   shortfall (each account's latest), the K worst accounts (lowest latest ratio) and when it started.
 *   The storm's first message goes at once; an update at most every `updateSeconds` (sent by the first
 *   alert after that, or by the scheduled tick when none comes). A storm pages on-call once (one ladder),
 *   however many of its alerts would page.
 * - **End** (hysteresis): fewer than `endAccounts` (M ≤ N) accounts alerted in the last window. A final
 *   summary goes out and per-account alerts resume.
 *
 * Two kinds of plain, serialisable state, so that a crash's thousands of concurrent dispatchers do not
 * queue on one item:
 * - the **storm state** (`StormState`, one item, small and bounded): the calm window (at most
 *   max(N + 1, M) accounts), and while a storm lasts its id, start, message sequence and whether it paged.
 *   It is written — conditionally, so concurrent dispatchers agree — only when a storm starts, when a
 *   message goes (first, update, end), when it pages, and while calm;
 * - one **share** per account and storm (`StormShare`: its latest level, shortfall, ratio and time, and
 *   counts): written by an absorbed alert with an unconditional merge (`shareOf`, which the store applies
 *   atomically), never read back on the alert's path. A message sums the storm's shares (`summarize`), so
 *   every account counts once, at its latest, however many alerts it has in the storm.
 *
 * Pure and deterministic: the time is an argument. Money is a decimal string at the edges, `Decimal` inside.
 */

export type StormPolicy = NotificationPolicy['storm'];

/** One per-account alert for people, as storm mode sees it. */
export interface AlertIntent {
  accountId: string;
  category: AlertCategory;
  severity: Severity;
  /** The level it came from, if the caller knows it (the summary counts the level it is at). */
  from?: RiskLevel | null;
  /** The level it is at now (null: not known; the last one stands). */
  to: RiskLevel | null;
  /** max(0, maintenance requirement − equity) as a decimal string; null: not known (the last one stands). */
  shortfall: string | null;
  ratio: string | null;
  at: string;
  /** The routes the alert would go to (rules), and whether it would page. */
  routes: string[];
  page: boolean;
}

export type LevelKey = RiskLevel | 'UNKNOWN';

/** What one account has reported to one storm: its latest level, shortfall, ratio and time, and counts. */
export interface StormShare {
  stormId: string;
  accountId: string;
  level: LevelKey;
  shortfall: string;
  ratio: string | null;
  /** Its latest alert (epoch ms). */
  at: number;
  intents: number;
  categories: Partial<Record<AlertCategory, number>>;
  severities: Severity[];
  routes: string[];
}

export interface WorstAccount {
  accountId: string;
  /** Its latest ratio. */
  ratio: string;
  level: LevelKey;
  shortfall: string;
  at: string;
}

/** The storm while it lasts, as the storm state holds it. */
export interface ActiveStorm {
  id: string;
  startedAt: string;
  /** Accounts alerted one by one in the window just before the storm started (they are not counted in it). */
  alertedBefore: number;
  /** Messages sent (the first, then updates) and when the last went (epoch ms). */
  messages: number;
  lastMessageAt: number;
  /** One of its alerts would page: the storm's one ladder has started. */
  paged: boolean;
  /** A dispatcher is reading the shares to send a due message (epoch ms); others do not, until it expires. */
  claimedAt: number | null;
}

/** A claim to send a due message lapses after this long (its dispatcher died): another takes it over. */
export const CLAIM_TTL_MS = 90_000;

export interface StormState {
  /** Accounts with a recent alert, latest first (at most max(N + 1, M)): the calm window. */
  recent: { accountId: string; at: number }[];
  storm: ActiveStorm | null;
  last: { id: string; endedAt: string } | null;
}

export const NO_STORM: StormState = { recent: [], storm: null, last: null };

/** A storm as a message reports it: the storm state's facts and the sum of its shares. */
export interface StormSnapshot {
  id: string;
  startedAt: string;
  alertedBefore: number;
  paged: boolean;
  /** Distinct accounts, and per-account alerts, absorbed. */
  accounts: number;
  intents: number;
  /** Accounts per level, each at the level it last reported. */
  levels: Partial<Record<LevelKey, number>>;
  categories: Partial<Record<AlertCategory, number>>;
  /** Σ over accounts of the shortfall each last reported: exact. */
  shortfall: string;
  worst: WorstAccount[];
  /** Every route an absorbed alert would have gone to: they hear the storm. */
  routes: string[];
  severity: Severity;
}

export type StormMessageKind = 'start' | 'update' | 'end';

/** A message to every route of the storm: its first, an update, or the final summary. */
export interface StormMessage {
  kind: StormMessageKind;
  /** 0 for the first message, then 1, 2 … (the final summary too): unique within the storm. */
  seq: number;
  at: string;
  storm: StormSnapshot;
  endedAt?: string;
  policy: Pick<StormPolicy, 'windowSeconds' | 'updateSeconds' | 'endAccounts' | 'startAccounts'>;
}

/** What an alert does to storm mode (`observe`). */
export type Observation =
  /** No storm: send it on its own; save `state` (the calm window). */
  | { kind: 'alone'; state: StormState }
  /** It starts a storm: save `state` and `share`, send `message` (and page, if `pageStorm`). */
  | {
      kind: 'start';
      state: StormState;
      share: StormShare;
      message: StormMessage;
      pageStorm: StormMessage | null;
    }
  /**
   * A storm is on: merge it into its share. `due`: a message may be due (or the storm over) — save this
   * claim; whoever saves it reads the storm's shares and `conclude`s (the others just absorb).
   * `claimPage`: it would page and the storm has not — whoever saves it starts the storm's ladder.
   */
  | { kind: 'absorb'; stormId: string; due: StormState | null; claimPage: StormState | null };

/** What `conclude` decided: the state to save, the messages to send, and where the alert went. */
export interface Conclusion {
  state: StormState;
  messages: StormMessage[];
  /** The alert (if any) was absorbed: save `share`. Otherwise it goes on its own (the storm ended first). */
  absorbed: boolean;
  share: StormShare | null;
  pageStorm: StormMessage | null;
}

const windowCap = (p: StormPolicy) => Math.max(p.startAccounts + 1, p.endAccounts);
const levelKey = (l: RiskLevel | null | undefined): LevelKey => l ?? 'UNKNOWN';
const iso = (ms: number) => new Date(ms).toISOString();
const atOf = (intent: AlertIntent, now: number) => {
  const at = Date.parse(intent.at);
  return Number.isNaN(at) ? now : Math.min(at, now);
};

/** The window with this account's latest alert: one entry per account, latest first, capped. */
function remember(recent: StormState['recent'], accountId: string, at: number, cap: number) {
  const prior = recent.find((r) => r.accountId === accountId);
  const next = [
    ...recent.filter((r) => r.accountId !== accountId),
    { accountId, at: Math.max(at, prior?.at ?? -Infinity) },
  ];
  next.sort((a, b) => b.at - a.at || (a.accountId < b.accountId ? -1 : 1));
  // Dropping the oldest keeps the invariant that every account not kept alerted no later than any kept:
  // so a count up to the cap is exact, and a full window means "at least the cap".
  return next.slice(0, cap);
}

/** Distinct accounts of the calm window that alerted within (now − W, now]; exact up to its cap. */
export function accountsInWindow(state: StormState, now: number, policy: StormPolicy): number {
  const from = now - policy.windowSeconds * 1000;
  return state.recent.filter((r) => r.at > from).length;
}

/**
 * An account's share after one more alert: what the store applies atomically (latest level, shortfall,
 * ratio and time; counts added; severities and routes united). An unknown level, shortfall or ratio
 * leaves the last one standing.
 */
export function shareOf(
  intent: AlertIntent,
  previous: StormShare | null,
  stormId: string,
  now: number,
): StormShare {
  const prev = previous && previous.stormId === stormId ? previous : null;
  return {
    stormId,
    accountId: intent.accountId,
    level: intent.to !== null ? levelKey(intent.to) : (prev?.level ?? 'UNKNOWN'),
    shortfall: new Decimal(intent.shortfall ?? prev?.shortfall ?? '0').toFixed(),
    ratio: intent.ratio ?? prev?.ratio ?? null,
    at: atOf(intent, now),
    intents: (prev?.intents ?? 0) + 1,
    categories: { ...prev?.categories, [intent.category]: (prev?.categories[intent.category] ?? 0) + 1 },
    severities: [...new Set([...(prev?.severities ?? []), intent.severity])].sort(),
    routes: [...new Set([...(prev?.routes ?? []), ...intent.routes])].sort(),
  };
}

function byRatio(a: WorstAccount, b: WorstAccount) {
  return new Decimal(a.ratio).comparedTo(b.ratio) || (a.accountId < b.accountId ? -1 : 1);
}

/** The storm's facts: its state and the sum of its shares (one per account). */
export function summarize(storm: ActiveStorm, shares: Iterable<StormShare>, k: number): StormSnapshot {
  const levels: Partial<Record<LevelKey, number>> = {};
  const categories: Partial<Record<AlertCategory, number>> = {};
  const routes = new Set<string>();
  let shortfall = new Decimal(0);
  let accounts = 0;
  let intents = 0;
  let severity: Severity = 'info';
  let worst: WorstAccount[] = [];
  for (const s of shares) {
    if (s.stormId !== storm.id) continue;
    accounts += 1;
    intents += s.intents;
    levels[s.level] = (levels[s.level] ?? 0) + 1;
    for (const [c, n] of Object.entries(s.categories) as [AlertCategory, number][])
      categories[c] = (categories[c] ?? 0) + n;
    for (const r of s.routes) routes.add(r);
    for (const v of s.severities) if (severityRank(v) > severityRank(severity)) severity = v;
    shortfall = shortfall.plus(s.shortfall);
    if (s.ratio !== null && k > 0) {
      worst.push({
        accountId: s.accountId,
        ratio: s.ratio,
        level: s.level,
        shortfall: s.shortfall,
        at: iso(s.at),
      });
      // Kept sorted and trimmed as it goes: K of 80,000 without sorting them all.
      if (worst.length > 4 * k) worst = worst.sort(byRatio).slice(0, k);
    }
  }
  return {
    id: storm.id,
    startedAt: storm.startedAt,
    alertedBefore: storm.alertedBefore,
    paged: storm.paged,
    accounts,
    intents,
    levels,
    categories,
    shortfall: shortfall.toFixed(),
    worst: worst.sort(byRatio).slice(0, k),
    routes: [...routes].sort(),
    severity,
  };
}

const policyOf = (p: StormPolicy): StormMessage['policy'] => ({
  windowSeconds: p.windowSeconds,
  updateSeconds: p.updateSeconds,
  endAccounts: p.endAccounts,
  startAccounts: p.startAccounts,
});

const dueAt = (storm: ActiveStorm, policy: StormPolicy) => storm.lastMessageAt + policy.updateSeconds * 1000;

/**
 * One per-account alert for people, at `now`, against the storm state (`observe` reads nothing else):
 * alone (no storm), the alert that starts one, or absorbed into the one that is on.
 */
export function observe(
  state: StormState,
  intent: AlertIntent,
  now: number,
  policy: StormPolicy,
): Observation {
  const storm = state.storm;
  if (storm) {
    // The calm window is not kept while a storm lasts (its shares are the window): nothing to save here,
    // unless a message may be due or the storm over — then claim it, and whoever saves the claim reads
    // the shares — or the storm's page is still unclaimed.
    const claimed = storm.claimedAt !== null && now - storm.claimedAt < CLAIM_TTL_MS;
    const due = !claimed && (!policy.enabled || now >= dueAt(storm, policy));
    const claimPage = intent.page && !storm.paged ? { ...state, storm: { ...storm, paged: true } } : null;
    return {
      kind: 'absorb',
      stormId: storm.id,
      due: due ? { ...state, storm: { ...storm, claimedAt: now } } : null,
      claimPage,
    };
  }
  const s: StormState = {
    ...state,
    recent: remember(state.recent, intent.accountId, atOf(intent, now), windowCap(policy)),
  };
  const count = accountsInWindow(s, now, policy);
  if (!policy.enabled || count <= policy.startAccounts) return { kind: 'alone', state: s };
  const active: ActiveStorm = {
    id: `storm-${iso(now)}`,
    startedAt: iso(now),
    alertedBefore: count - 1,
    messages: 1,
    lastMessageAt: now,
    paged: intent.page,
    claimedAt: null,
  };
  const share = shareOf(intent, null, active.id, now);
  const message: StormMessage = {
    kind: 'start',
    seq: 0,
    at: iso(now),
    storm: summarize(active, [share], policy.worstAccounts),
    policy: policyOf(policy),
  };
  return {
    kind: 'start',
    state: { recent: [], storm: active, last: state.last },
    share,
    message,
    pageStorm: intent.page ? { ...message, seq: -1 } : null,
  };
}

/**
 * With the storm's shares read (`shares`: every account's, before this alert's): the final summary if
 * fewer than M accounts alerted within the window (or storm mode was switched off) — the alert, if any,
 * then goes on its own — otherwise the alert is absorbed and, if `updateSeconds` have passed since the
 * last message and something is new, an update goes. With no alert, this is the storm's scheduled tick.
 */
export function conclude(
  state: StormState,
  shares: readonly StormShare[],
  now: number,
  policy: StormPolicy,
  intent: AlertIntent | null,
): Conclusion {
  const storm = state.storm;
  if (!storm) {
    if (!intent) return { state, messages: [], absorbed: false, share: null, pageStorm: null };
    const o = observe(state, intent, now, policy);
    if (o.kind === 'alone')
      return { state: o.state, messages: [], absorbed: false, share: null, pageStorm: null };
    if (o.kind === 'start')
      return {
        state: o.state,
        messages: [o.message],
        absorbed: true,
        share: o.share,
        pageStorm: o.pageStorm,
      };
    return { state, messages: [], absorbed: false, share: null, pageStorm: null };
  }
  const mine = shares.filter((s) => s.stormId === storm.id);
  const from = now - policy.windowSeconds * 1000;
  const latest = mine
    .map((s) => ({ accountId: s.accountId, at: s.at }))
    .sort((a, b) => b.at - a.at || (a.accountId < b.accountId ? -1 : 1));
  if (!policy.enabled || latest.filter((r) => r.at > from).length < policy.endAccounts) {
    // When it became calm: the M-th latest alert left the window then.
    const mth = latest[policy.endAccounts - 1];
    const calm = mth ? mth.at + policy.windowSeconds * 1000 : now;
    const endedAt = iso(Math.min(now, Math.max(calm, Date.parse(storm.startedAt))));
    const end: StormMessage = {
      kind: 'end',
      seq: storm.messages,
      at: iso(now),
      storm: summarize(storm, mine, policy.worstAccounts),
      endedAt,
      policy: policyOf(policy),
    };
    // Calm again: the window carries on from the storm's latest alerts (hysteresis holds across the end).
    const calmState: StormState = {
      recent: latest.slice(0, windowCap(policy)),
      storm: null,
      last: { id: storm.id, endedAt },
    };
    const after = intent ? conclude(calmState, [], now, policy, intent) : null;
    return {
      state: after?.state ?? calmState,
      messages: [end, ...(after?.messages ?? [])],
      absorbed: after?.absorbed ?? false,
      share: after?.share ?? null,
      pageStorm: after?.pageStorm ?? null,
    };
  }
  let all = mine;
  let share: StormShare | null = null;
  if (intent) {
    share = shareOf(intent, mine.find((s) => s.accountId === intent.accountId) ?? null, storm.id, now);
    all = [...mine.filter((s) => s.accountId !== intent.accountId), share];
  }
  let next: ActiveStorm = { ...storm, claimedAt: null };
  const messages: StormMessage[] = [];
  if (now >= dueAt(storm, policy) && all.some((s) => s.at > storm.lastMessageAt)) {
    next = { ...next, messages: storm.messages + 1, lastMessageAt: now };
    messages.push({
      kind: 'update',
      seq: storm.messages,
      at: iso(now),
      storm: summarize(next, all, policy.worstAccounts),
      policy: policyOf(policy),
    });
  }
  let pageStorm: StormMessage | null = null;
  if (intent?.page && !next.paged) {
    next = { ...next, paged: true };
    pageStorm = {
      kind: 'start',
      seq: -1,
      at: iso(now),
      storm: summarize(next, all, policy.worstAccounts),
      policy: policyOf(policy),
    };
  }
  return { state: { ...state, storm: next }, messages, absorbed: intent !== null, share, pageStorm };
}

/** The storm's clock without an alert (a scheduled tick): `conclude` with no alert, unless claimed. */
export function tick(state: StormState, shares: readonly StormShare[], now: number, policy: StormPolicy) {
  const storm = state.storm;
  if (!storm || (storm.claimedAt !== null && now - storm.claimedAt < CLAIM_TTL_MS))
    return { state, messages: [] as StormMessage[] };
  const c = conclude(state, shares, now, policy, null);
  return { state: c.state, messages: c.messages };
}

/** What one alert did, as one dispatcher alone applies it (`applyIntent`). */
export interface Applied {
  state: StormState;
  absorbed: boolean;
  messages: StormMessage[];
  pageStorm: StormMessage | null;
}

/**
 * One alert through storm mode as a dispatcher applies it when nobody races it — observe; start, absorb
 * or, when due, claim and conclude — with the storm's shares in a map (by account) that this updates.
 * The simulation and the tests drive storm mode with this; the dispatcher does the same against the store.
 */
export function applyIntent(
  state: StormState,
  shares: Map<string, StormShare>,
  intent: AlertIntent,
  now: number,
  policy: StormPolicy,
): Applied {
  const o = observe(state, intent, now, policy);
  if (o.kind === 'alone') return { state: o.state, absorbed: false, messages: [], pageStorm: null };
  if (o.kind === 'start') {
    shares.clear();
    shares.set(intent.accountId, o.share);
    return { state: o.state, absorbed: true, messages: [o.message], pageStorm: o.pageStorm };
  }
  if (o.due) {
    const c = conclude(o.due, [...shares.values()], now, policy, intent);
    if (c.messages.some((m) => m.kind === 'end')) shares.clear();
    if (c.share) shares.set(intent.accountId, c.share);
    return { state: c.state, absorbed: c.absorbed, messages: c.messages, pageStorm: c.pageStorm };
  }
  const share = shareOf(intent, shares.get(intent.accountId) ?? null, o.stormId, now);
  shares.set(intent.accountId, share);
  const next = o.claimPage ?? state;
  const pageStorm: StormMessage | null = o.claimPage
    ? {
        kind: 'start',
        seq: -1,
        at: iso(now),
        storm: summarize(next.storm!, [share], policy.worstAccounts),
        policy: policyOf(policy),
      }
    : null;
  return { state: next, absorbed: true, messages: [], pageStorm };
}

/** The scheduled tick as a dispatcher applies it (`applyIntent`'s companion). */
export function applyTick(
  state: StormState,
  shares: Map<string, StormShare>,
  now: number,
  policy: StormPolicy,
): { state: StormState; messages: StormMessage[] } {
  const t = tick(state, [...shares.values()], now, policy);
  if (t.messages.some((m) => m.kind === 'end')) shares.clear();
  return t;
}

// ---------------------------------------------------------------------------------------------------
// Messages: one text per channel, with the account links the per-account alerts carry.

/** The console's page of one account (what every per-account alert links to). */
export function consoleAccountLink(consoleUrl: string, accountId: string): string {
  return `${consoleUrl.replace(/\/$/, '')}/#/accounts/${encodeURIComponent(accountId)}`;
}

/** The console's overview (every account, worst first). */
export const consoleOverviewLink = (consoleUrl: string) => `${consoleUrl.replace(/\/$/, '')}/#/`;

const LEVEL_ORDER: LevelKey[] = ['LIQUIDATION', 'CRITICAL', 'WARNING', 'SAFE', 'UNKNOWN'];
const ratio3 = (r: string) => new Decimal(r).toDecimalPlaces(3).toFixed();
const hhmmss = (at: string) => `${at.slice(0, 19).replace('T', ' ')} UTC`;

export function stormSubject(m: StormMessage): string {
  const s = m.storm;
  const what = `${s.accounts} account(s), shortfall ${s.shortfall}`;
  const head =
    m.kind === 'start'
      ? `MARKET STORM: ${what}`
      : m.kind === 'update'
        ? `MARKET STORM update ${m.seq}: ${what}`
        : `market storm over: ${what}`;
  return `[Margin Guard] ${head}`.slice(0, 99);
}

/** The facts of a storm message, as lines (shared by every text form). */
function stormLines(m: StormMessage): { lead: string; facts: [string, string][]; next: string } {
  const s = m.storm;
  const levels = LEVEL_ORDER.filter((l) => s.levels[l])
    .map((l) => `${l} ${s.levels[l]}`)
    .join(', ');
  const categories = Object.entries(s.categories)
    .map(([c, n]) => `${c} ${n}`)
    .join(', ');
  const lead =
    m.kind === 'end'
      ? `The market-wide storm of ${hhmmss(s.startedAt)} is over (calm since ${hhmmss(m.endedAt!)}): per-account alerts resume.`
      : `Market-wide storm since ${hhmmss(s.startedAt)}: more than ${m.policy.startAccounts} accounts alerted within ${m.policy.windowSeconds}s. Per-account alerts to people are held back and counted here.`;
  const facts: [string, string][] = [
    ['Started', s.startedAt],
    ...(m.kind === 'end' ? ([['Calm since', m.endedAt!]] as [string, string][]) : []),
    [
      'Accounts',
      `${s.accounts}${s.alertedBefore ? ` (and ${s.alertedBefore} alerted one by one just before)` : ''}`,
    ],
    ['By level (latest)', levels || 'none'],
    ['Alerts', `${s.intents} (${categories || 'none'})`],
    ['Total shortfall', s.shortfall],
  ];
  const next =
    m.kind === 'end'
      ? 'Nothing more from this storm; its page stays open until acknowledged.'
      : `Next update within ${m.policy.updateSeconds}s while it lasts; it ends when fewer than ${m.policy.endAccounts} accounts alert within ${m.policy.windowSeconds}s.`;
  return { lead, facts, next };
}

const worstLine = (w: WorstAccount, i: number) =>
  `${i + 1}. ${w.accountId} ${w.level} ratio ${ratio3(w.ratio)} shortfall ${w.shortfall}`;

export function stormText(m: StormMessage, consoleUrl?: string): string {
  const { lead, facts, next } = stormLines(m);
  return [
    stormSubject(m),
    lead,
    ...facts.map(([k, v]) => `${k}: ${v}`),
    ...(m.storm.worst.length
      ? [
          `Worst ${m.storm.worst.length} (lowest ratio):`,
          ...m.storm.worst.map(
            (w, i) =>
              `${worstLine(w, i)}${consoleUrl ? ` ${consoleAccountLink(consoleUrl, w.accountId)}` : ''}`,
          ),
        ]
      : []),
    `Next: ${next}`,
    ...(consoleUrl ? [`Console: ${consoleOverviewLink(consoleUrl)}`] : []),
  ].join('\n');
}

export function stormTelegram(m: StormMessage, consoleUrl?: string): string {
  const url = (u: string) => u.replace(/[)\\]/g, (c) => `\\${c}`);
  const { lead, facts, next } = stormLines(m);
  return [
    `*${escapeMarkdownV2(stormSubject(m))}*`,
    escapeMarkdownV2(lead),
    ...facts.map(([k, v]) => `${escapeMarkdownV2(k)}: ${escapeMarkdownV2(v)}`),
    ...(m.storm.worst.length
      ? [
          escapeMarkdownV2(`Worst ${m.storm.worst.length} (lowest ratio):`),
          ...m.storm.worst.map((w, i) =>
            consoleUrl
              ? `${escapeMarkdownV2(`${i + 1}. `)}[${escapeMarkdownV2(w.accountId)}](${url(consoleAccountLink(consoleUrl, w.accountId))})${escapeMarkdownV2(` ${w.level} ratio ${ratio3(w.ratio)} shortfall ${w.shortfall}`)}`
              : escapeMarkdownV2(worstLine(w, i)),
          ),
        ]
      : []),
    escapeMarkdownV2(`Next: ${next}`),
    ...(consoleUrl ? [`[Open the console](${url(consoleOverviewLink(consoleUrl))})`] : []),
  ].join('\n');
}

/** One SMS segment where it can: the counts, the shortfall, the worst account, the console link. */
export function stormSms(m: StormMessage, consoleUrl?: string): string {
  const s = m.storm;
  const w = s.worst[0];
  const head =
    m.kind === 'end' ? 'MG storm over' : m.kind === 'update' ? `MG STORM upd ${m.seq}` : 'MG STORM';
  const facts = [
    `${s.accounts} accts`,
    `shortfall ${s.shortfall}`,
    ...(w ? [`worst ${w.accountId} ${ratio3(w.ratio)}`] : []),
  ];
  return `${head}: ${facts.join(', ')}${consoleUrl ? ` ${consoleOverviewLink(consoleUrl)}` : ''}`.replace(
    /[−–]/g,
    '-',
  );
}

const html = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function stormHtml(m: StormMessage, consoleUrl?: string, ack?: string): string {
  const { lead, facts, next } = stormLines(m);
  const colour = { info: '#1a7f37', warning: '#b58100', critical: '#c62828' }[m.storm.severity];
  const worst = m.storm.worst
    .map(
      (w, i) =>
        `<tr><td>${i + 1}</td><td>${consoleUrl ? `<a href="${html(consoleAccountLink(consoleUrl, w.accountId))}">${html(w.accountId)}</a>` : html(w.accountId)}</td><td>${w.level}</td><td>${ratio3(w.ratio)}</td><td>${html(w.shortfall)}</td></tr>`,
    )
    .join('');
  return `<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#1f2328">
<h2 style="border-left:6px solid ${colour};padding-left:8px">${html(stormSubject(m))}</h2>
<p>${html(lead)}</p>
<table cellpadding="6" style="border-collapse:collapse">${facts
    .map(([k, v]) => `<tr><th align="left" style="color:#59636e">${html(k)}</th><td>${html(v)}</td></tr>`)
    .join('')}</table>
${worst ? `<h3>Worst ${m.storm.worst.length} (lowest ratio)</h3><table cellpadding="4" style="border-collapse:collapse"><tr><th>#</th><th>account</th><th>level</th><th>ratio</th><th>shortfall</th></tr>${worst}</table>` : ''}
<p>${html(next)}</p>
<p>${ack ? `<a href="${html(ack)}" style="background:#1f6feb;color:#fff;padding:8px 14px;border-radius:4px;text-decoration:none">Acknowledge</a> ` : ''}${consoleUrl ? `<a href="${html(consoleOverviewLink(consoleUrl))}">Open the console</a>` : ''}</p>
<p style="color:#59636e;font-size:12px">Margin Guard · ${html(m.at)}</p></body></html>`;
}

// ---------------------------------------------------------------------------------------------------
// Capacity: people messages per channel for a wave of alerts (bench/capacity/ imports this).

export type WaveChannel = ChannelKind | 'sns-topic';

export interface WaveChange {
  /** Milliseconds (any epoch: only differences matter). */
  at: number;
  accountId?: string;
  /** @default 'critical' */
  category?: AlertCategory;
  severity?: Severity;
  level?: RiskLevel | null;
  shortfall?: string | null;
  ratio?: string | null;
}

export interface WaveMessage {
  /** When the rate limits let it go (ms), and when it was wanted. */
  at: number;
  wanted: number;
  channel: WaveChannel;
  route: string;
  /** An account's own alert, a storm message, or a page (the first rung of a ladder). */
  kind: 'alert' | 'storm' | 'page';
}

export interface WaveResult {
  perChannel: Record<WaveChannel, number>;
  messages: WaveMessage[];
  /** Alerts sent one by one, and absorbed into storms; storms started. */
  individual: number;
  absorbed: number;
  storms: number;
  /** The final summaries, each with the alerts it counted. */
  summaries: StormMessage[];
}

const CATEGORY_LEVEL: Partial<Record<AlertCategory, RiskLevel>> = {
  warning: 'WARNING',
  critical: 'CRITICAL',
  'liquidation-approaching': 'LIQUIDATION',
  liquidation: 'LIQUIDATION',
  deleverage: 'CRITICAL',
  recovery: 'SAFE',
};

const CATEGORY_SEVERITY: Partial<Record<AlertCategory, Severity>> = {
  'liquidation-approaching': 'critical',
  liquidation: 'critical',
  system: 'critical',
  recovery: 'info',
  approaching: 'info',
};

/** Whether storm mode gathers this alert: enabled, a storm category, and a route other than the console. */
export function stormGathers(policy: NotificationPolicy, category: AlertCategory): boolean {
  return policy.storm.enabled && policy.storm.categories.includes(category);
}

/** Channels storm mode leaves alone: the console lists every account anyway; it is nobody's inbox. */
export const STORM_EXEMPT_CHANNELS: readonly ChannelKind[] = ['websocket'];

/**
 * Every message to people a wave of alerts produces, through storm mode and the rate limits, in a
 * simulation of the dispatcher: per-account alerts to their routes and the SNS alerts topic (and, if
 * they page, the first rung of their ladder and the pages topic); storm messages to the storm's routes
 * and the topic; the storm's one page. Ticks come every `tickSeconds` (the deployed flush schedule:
 * 300 s) until the last storm is over. Quiet hours and digests are not modelled (they only move messages
 * later); neither is alert fatigue (each change is a new alert).
 */
export function simulateWave(
  changes: readonly WaveChange[],
  policy: NotificationPolicy,
  options: { tickSeconds?: number; horizonSeconds?: number } = {},
): WaveResult {
  const sorted = [...changes].sort((a, b) => a.at - b.at);
  const tickMs = (options.tickSeconds ?? 300) * 1000;
  const routes = new Map(policy.routes.map((r) => [r.name, r]));
  const perChannel = Object.fromEntries(
    (['telegram', 'email', 'sms', 'webhook', 'websocket', 'sns-topic'] as WaveChannel[]).map((c) => [c, 0]),
  ) as Record<WaveChannel, number>;
  const buckets: Partial<Record<BucketChannel, Buckets>> = {};
  const messages: WaveMessage[] = [];
  const summaries: StormMessage[] = [];
  let state = NO_STORM;
  const shares = new Map<string, StormShare>();
  let individual = 0;
  let absorbedCount = 0;
  let storms = 0;

  // Messages are wanted in the order storm mode decides them, then go through the rate limits in time
  // order, as the dispatcher takes tokens while time passes: one first-in-first-out lane per recipient,
  // whose head waits until its buckets have a token.
  const lanes = new Map<string, { to: string; items: WaveMessage[]; head: number }>();

  const emit = (
    wanted: number,
    channel: WaveChannel,
    to: string,
    route: string,
    kind: WaveMessage['kind'],
  ) => {
    perChannel[channel] += 1;
    const message: WaveMessage = { at: wanted, wanted, channel, route, kind };
    if (!bucketsFor(channel === 'sns-topic' ? 'topic' : channel, to, policy.rateLimits)) {
      messages.push(message);
      return;
    }
    const key = `${channel}\u0000${to}\u0000${kind === 'alert' ? 'n' : 'p'}`;
    const lane = lanes.get(key) ?? { to, items: [], head: 0 };
    lane.items.push(message);
    lanes.set(key, lane);
  };
  const toRoutes = (names: readonly string[], wanted: number, kind: WaveMessage['kind']) => {
    for (const name of names) {
      const r = routes.get(name);
      if (r) emit(wanted, r.channel, recipientOf(r), r.name, kind);
    }
  };
  const firstRung = (wanted: number) => {
    toRoutes(policy.onCall[0]?.routes ?? [], wanted, 'page');
    emit(wanted, 'sns-topic', 'pages', 'pages-topic', 'page');
  };
  const stormOut = (list: readonly StormMessage[], wanted: number) => {
    for (const m of list) {
      if (m.kind === 'start') storms += 1;
      if (m.kind === 'end') summaries.push(m);
      toRoutes(m.storm.routes, wanted, 'storm');
      emit(wanted, 'sns-topic', 'alerts', 'alerts-topic', 'storm');
    }
  };

  let nextTick = sorted.length ? Math.ceil(sorted[0]!.at / tickMs) * tickMs : 0;
  sorted.forEach((c, i) => {
    while (nextTick < c.at) {
      const t = applyTick(state, shares, nextTick, policy.storm);
      state = t.state;
      stormOut(t.messages, nextTick);
      nextTick += tickMs;
    }
    const category = c.category ?? 'critical';
    const accountId = c.accountId ?? `W${i}`;
    const severity = c.severity ?? CATEGORY_SEVERITY[category] ?? 'warning';
    const alertRoutes = routesFor({ category, severity }, policy);
    const paging = pages({ category, severity }, policy);
    if (!stormGathers(policy, category)) {
      individual += 1;
      toRoutes(
        alertRoutes.map((r) => r.name),
        c.at,
        'alert',
      );
      emit(c.at, 'sns-topic', 'alerts', 'alerts-topic', 'alert');
      if (paging) firstRung(c.at);
      return;
    }
    const step = applyIntent(
      state,
      shares,
      {
        accountId,
        category,
        severity,
        to: c.level === undefined ? (CATEGORY_LEVEL[category] ?? null) : c.level,
        shortfall: c.shortfall ?? null,
        ratio: c.ratio ?? null,
        at: new Date(c.at).toISOString(),
        routes: alertRoutes.map((r) => r.name),
        page: paging,
      },
      c.at,
      policy.storm,
    );
    state = step.state;
    // A storm that ended before this alert says so first.
    stormOut(
      step.messages.filter((m) => m.kind === 'end'),
      c.at,
    );
    if (step.absorbed) {
      absorbedCount += 1;
      toRoutes(
        alertRoutes.filter((r) => STORM_EXEMPT_CHANNELS.includes(r.channel)).map((r) => r.name),
        c.at,
        'alert',
      );
    } else {
      individual += 1;
      toRoutes(
        alertRoutes.map((r) => r.name),
        c.at,
        'alert',
      );
      emit(c.at, 'sns-topic', 'alerts', 'alerts-topic', 'alert');
      if (paging) firstRung(c.at);
    }
    stormOut(
      step.messages.filter((m) => m.kind !== 'end'),
      c.at,
    );
    if (step.pageStorm) firstRung(c.at);
  });
  const horizon = (sorted.at(-1)?.at ?? 0) + (options.horizonSeconds ?? 86_400) * 1000;
  while (state.storm && nextTick <= horizon) {
    const t = applyTick(state, shares, nextTick, policy.storm);
    state = t.state;
    stormOut(t.messages, nextTick);
    nextTick += tickMs;
  }
  type Head = { at: number; order: number; lane: { to: string; items: WaveMessage[]; head: number } };
  const queue = new MinHeap<Head>((a, b) => a.at - b.at || a.order - b.order);
  let order = 0;
  for (const lane of lanes.values()) queue.push({ at: lane.items[0]!.wanted, order: order++, lane });
  for (let next = queue.pop(); next; next = queue.pop()) {
    const { lane } = next;
    const m = lane.items[lane.head]!;
    const at = Math.max(next.at, m.wanted);
    const limited = bucketsFor(m.channel === 'sns-topic' ? 'topic' : m.channel, lane.to, policy.rateLimits)!;
    const r = take(buckets[limited.channel] ?? {}, limited.needs, at, m.kind !== 'alert');
    if (!r.ok) {
      queue.push({ at: r.retryAt, order: next.order, lane });
      continue;
    }
    buckets[limited.channel] = r.buckets;
    messages.push({ ...m, at });
    lane.head += 1;
    if (lane.head < lane.items.length)
      queue.push({ at: Math.max(at, lane.items[lane.head]!.wanted), order: order++, lane });
  }
  messages.sort((a, b) => a.at - b.at);

  return { perChannel, messages, individual, absorbed: absorbedCount, storms, summaries };
}

/** A binary min-heap (the simulation's send queue). */
class MinHeap<T> {
  private readonly items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => number) {}
  push(item: T) {
    const a = this.items;
    a.push(item);
    for (let i = a.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (this.less(a[i]!, a[parent]!) >= 0) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }
  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l]!, a[m]!) < 0) m = l;
        if (r < a.length && this.less(a[r]!, a[m]!) < 0) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

function recipientOf(route: Route): string {
  switch (route.channel) {
    case 'telegram':
      return route.chatId;
    case 'email':
      return route.address;
    case 'sms':
      return route.phoneNumber;
    default:
      return '-';
  }
}

/**
 * People messages per channel for a wave of level changes (`at` in ms), through storm mode and the rate
 * limits — e.g. 78,000 accounts over 10 s: `peopleMessagesForWave(Array.from({ length: 78_000 }, (_, i) =>
 * ({ at: Math.floor((i * 10_000) / 78_000) })), policy)`. `sns-topic` counts the alerts and pages topics'
 * messages (each fans out to its subscriptions).
 */
export function peopleMessagesForWave(
  changes: readonly WaveChange[],
  policy: NotificationPolicy,
  options?: { tickSeconds?: number },
): Record<WaveChannel, number> {
  return simulateWave(changes, policy, options).perChannel;
}

/** The storm-mode defaults (the notification policy's `storm`), for a capacity model's documentation. */
export const STORM_POLICY_DEFAULTS: StormPolicy = {
  ...STORM_DEFAULTS,
  categories: [...STORM_DEFAULTS.categories],
};

export type { RateLimits };
