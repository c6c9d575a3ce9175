import {
  DELIVERY_LEASE_MS,
  type DeliveryClaim,
  type HeldDelivery,
  type NotifyStore,
} from '../../functions/lib/notify-store.ts';
import { NO_MEMORY, type AlertMemory } from '../../shared/notify/fatigue.ts';
import type { PageState } from '../../shared/notify/ladder.ts';
import type { BucketChannel, Buckets } from '../../shared/notify/rate-limit.ts';
import {
  NO_STORM,
  shareOf,
  type AlertIntent,
  type StormShare,
  type StormState,
} from '../../shared/notify/storm.ts';

type Store = Pick<
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

/** Every read and write crosses an await, so concurrent dispatchers interleave as they do on DynamoDB. */
const tick = () => new Promise<void>((r) => setImmediate(r));
const copy = <T>(v: T): T => structuredClone(v);

/**
 * The notify store in memory, with the same conditional writes as the DynamoDB one (versions, claims,
 * one page per id, the storm and the account committed together or not at all). Counts the storm item's
 * lost races, to show concurrent dispatchers contending for it.
 */
export class MemoryNotifyStore implements Store {
  readonly memories = new Map<string, { memory: AlertMemory; version: number }>();
  readonly stormShares = new Map<string, StormShare>();
  readonly deliveries = new Map<string, { status: string; attempts?: number; leaseUntil?: number }>();
  readonly pages = new Map<string, PageState>();
  readonly held = new Map<string, HeldDelivery>();
  stormItem: { state: StormState; version: number } = { state: NO_STORM, version: 0 };
  readonly buckets = new Map<BucketChannel, { buckets: Buckets; version: number }>();
  conflicts = 0;

  async memory(accountId: string) {
    await tick();
    const m = this.memories.get(accountId);
    return m ? copy(m) : { memory: NO_MEMORY, version: 0 };
  }

  async saveMemory(accountId: string, memory: AlertMemory, expectedVersion: number) {
    await tick();
    const m = this.memories.get(accountId);
    if ((m?.version ?? 0) !== expectedVersion) return false;
    this.memories.set(accountId, { memory: copy(memory), version: expectedVersion + 1 });
    return true;
  }

  async storm() {
    await tick();
    return copy(this.stormItem);
  }

  async saveStorm(state: StormState, expectedVersion: number) {
    await tick();
    if (this.stormItem.version !== expectedVersion) {
      this.conflicts += 1;
      return false;
    }
    this.stormItem = { state: copy(state), version: expectedVersion + 1 };
    return true;
  }

  /** The store's atomic merge is `shareOf` applied to what is there (no condition: never a conflict). */
  async addToShare(stormId: string, intent: AlertIntent, at: number) {
    await tick();
    const key = `${stormId}|${intent.accountId}`;
    this.stormShares.set(
      key,
      shareOf({ ...intent, at: new Date(at).toISOString() }, this.stormShares.get(key) ?? null, stormId, at),
    );
  }

  async shares(stormId: string) {
    await tick();
    return [...this.stormShares.values()].filter((s) => s.stormId === stormId).map(copy);
  }

  async rateBuckets(channel: BucketChannel) {
    await tick();
    return copy(this.buckets.get(channel) ?? { buckets: {}, version: 0 });
  }

  async saveRateBuckets(channel: BucketChannel, buckets: Buckets, expectedVersion: number) {
    await tick();
    if ((this.buckets.get(channel)?.version ?? 0) !== expectedVersion) return false;
    this.buckets.set(channel, { buckets: copy(buckets), version: expectedVersion + 1 });
    return true;
  }

  /** The same conditions as the DynamoDB claim: new, failed, deferred, or a lapsed lease may be claimed. */
  async claimDelivery(
    accountId: string,
    key: string,
    at: string,
    leaseMs: number = DELIVERY_LEASE_MS,
  ): Promise<DeliveryClaim> {
    await tick();
    const k = `${accountId}|${key}`;
    const d = this.deliveries.get(k);
    const now = Date.parse(at);
    if (d?.status === 'sent') return { claimed: false, status: 'sent' };
    if (d?.status === 'claimed' && d.leaseUntil! >= now)
      return { claimed: false, status: 'claimed', until: d.leaseUntil! };
    this.deliveries.set(k, { status: 'claimed', leaseUntil: now + leaseMs });
    return { claimed: true };
  }

  async settleDelivery(
    accountId: string,
    key: string,
    status: 'sent' | 'failed' | 'deferred',
    attempts: number,
  ) {
    await tick();
    this.deliveries.set(`${accountId}|${key}`, { status, attempts });
  }

  async createPage(page: PageState) {
    await tick();
    if (this.pages.has(page.pageId)) return false;
    this.pages.set(page.pageId, copy(page));
    return true;
  }

  async page(pageId: string) {
    await tick();
    const p = this.pages.get(pageId);
    return p ? copy(p) : null;
  }

  async advancePage(
    pageId: string,
    from: { tier: number; attempt: number },
    to: { tier: number; attempt: number },
  ) {
    await tick();
    const p = this.pages.get(pageId);
    if (!p || p.tier !== from.tier || p.attempt !== from.attempt || p.ackedBy !== null) return false;
    this.pages.set(pageId, { ...p, ...to });
    return true;
  }

  async acknowledge(pageId: string, by: string, at: string) {
    await tick();
    const p = this.pages.get(pageId);
    if (!p) return null;
    if (p.ackedBy !== null) return { page: copy(p), first: false };
    const acked = { ...p, ackedBy: by, ackedAt: at };
    this.pages.set(pageId, acked);
    return { page: copy(acked), first: true };
  }

  async hold(held: HeldDelivery) {
    await tick();
    const key = `HELD#${held.until}#${held.delivery.alertId}#${held.delivery.route}${held.tag ? `#${held.tag}` : ''}`;
    this.held.set(key, copy(held));
  }

  async due(now: Date) {
    await tick();
    const hi = `HELD#${now.toISOString()}\uffff`;
    return [...this.held.entries()]
      .filter(([k]) => k <= hi)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([actionKey, h]) => ({ ...copy(h), actionKey }));
  }

  async release(actionKey: string) {
    await tick();
    this.held.delete(actionKey);
  }
}
