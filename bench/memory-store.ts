import { type BandSummary, type BandWritePlan } from '../shared/bands/band-rows.ts';
import {
  BandConflict,
  bandItemChanges,
  type CrossedAccounts,
  type TickRange,
} from '../functions/lib/bands-repository.ts';
import {
  accountOfBoundKey,
  crossingQueries,
  stripeOf,
  summaryKey,
  type BandItemKey,
} from '../shared/bands/band-keys.ts';
import { itemBytes, readUnits, writeUnits, type Meter } from './capacity/meter.ts';
import type { BandStore, RiskStore } from '../functions/lib/evaluate-account.ts';
import type { HandlerDeps } from '../functions/lib/runtime.ts';
import { Tally } from '../functions/lib/telemetry.ts';
import { DEFAULT_PIPELINE_CONFIG } from '../shared/pipeline/config.ts';
import { VersionConflict } from '../functions/lib/risk-repository.ts';
import { BATCH_WRITE_ITEMS } from '../functions/lib/transactions.ts';
import type { AccountItem, PositionItem, PriceItem } from '../shared/pipeline/records.ts';
import type { HistoryItem, StoredRiskState } from '../shared/pipeline/stored-state.ts';

/**
 * The repository's contract in memory, for benchmarks: no I/O, so what is measured is the evaluator's own
 * CPU. Items are copied through JSON, as DynamoDB would marshal them.
 */
export class MemoryStore implements RiskStore {
  readonly accounts = new Map<string, AccountItem>();
  readonly positions = new Map<string, PositionItem[]>();
  readonly prices = new Map<string, PriceItem>();
  readonly states = new Map<string, string>();
  writes = 0;
  historyWrites = 0;
  /** Evaluations run against this store (each reads its account once). */
  evaluations = 0;
  bytesWritten = 0;

  constructor(private readonly meter?: Meter) {}

  private read(
    resource: string,
    key: string,
    item: unknown,
    requests = 1,
    strong = true,
    afterBands = false,
  ) {
    this.meter?.record({
      service: 'dynamodb',
      resource,
      key,
      read: readUnits(itemBytes(item), strong),
      write: 0,
      requests,
      ...(afterBands ? { afterBands } : {}),
    });
  }
  private write(resource: string, key: string, bytes: number, transactional: boolean) {
    const units = writeUnits(bytes) * (transactional ? 2 : 1);
    this.meter?.record({ service: 'dynamodb', resource, key, read: 0, write: units, requests: 0 });
  }

  async getAccount(id: string) {
    this.evaluations += 1;
    this.read('Accounts', id, this.accounts.get(id));
    return this.accounts.get(id) ?? null;
  }
  async getPositions(id: string) {
    this.read('Positions', id, this.positions.get(id));
    return this.positions.get(id) ?? [];
  }
  async getPrices(instruments: readonly string[], options?: { fresh?: boolean; eventual?: boolean }) {
    const wanted = [...new Set(instruments)];
    const strong = options?.fresh === true || options?.eventual !== true;
    // BatchGetItem: one request per 100 keys, units rounded up per item.
    // `fresh` is the re-check after a band write (and its re-evaluation): metered as after the bands.
    wanted.forEach((i, n) =>
      this.read('Prices', i, this.prices.get(i), n % 100 === 0 ? 1 : 0, strong, options?.fresh === true),
    );
    return new Map(wanted.filter((i) => this.prices.has(i)).map((i) => [i, this.prices.get(i)!]));
  }
  async getRiskState(id: string) {
    const s = this.states.get(id);
    this.meter?.record({
      service: 'dynamodb',
      resource: 'RiskState',
      key: id,
      read: readUnits(s?.length ?? 0),
      write: 0,
      requests: 1,
    });
    return s ? (JSON.parse(s) as StoredRiskState) : null;
  }
  async saveRiskState(state: StoredRiskState, expected: number, history: HistoryItem | null) {
    const current = this.states.get(state.accountId);
    if ((current ? (JSON.parse(current) as StoredRiskState).version : 0) !== expected)
      throw new VersionConflict(state.accountId, expected);
    const text = JSON.stringify(state);
    // One transaction: the state (×2), its history entry (×2); each overview index re-writes its
    // projection (a delete and a put when the level, ratio or distance key moved: always, on a write).
    this.write('RiskState', state.accountId, text.length, true);
    for (const index of ['byLevelRatio', 'byLevelCallDistance'])
      this.meter?.record({
        service: 'dynamodb',
        resource: `RiskState/${index}`,
        key: state.accountId,
        read: 0,
        write: current ? 2 : 1,
        requests: 0,
      });
    if (history) this.write('RiskHistory', state.accountId, JSON.stringify(history).length, true);
    this.meter?.record({
      service: 'dynamodb',
      resource: 'RiskState',
      key: '',
      read: 0,
      write: 0,
      requests: 1,
    });
    this.states.set(state.accountId, text);
    this.writes += 1;
    this.bytesWritten += text.length + (history ? JSON.stringify(history).length : 0);
    if (history) this.historyWrites += 1;
  }
  async clearOutbox(id: string) {
    const s = this.states.get(id);
    this.write('RiskState', id, s?.length ?? 0, false);
    if (s) this.states.set(id, JSON.stringify({ ...JSON.parse(s), outbox: [] }));
  }
  async scanAccounts(segment: number, total: number, start?: Record<string, unknown>) {
    const ids = [...this.accounts.keys()].filter((_, i) => i % total === segment);
    const from = start ? Number(start.offset) : 0;
    const page = ids.slice(from, from + 100);
    return { accountIds: page, ...(from + 100 < ids.length ? { next: { offset: from + 100 } } : {}) };
  }
  /** The holdings index: every account holding the instrument, in one page (unmetered: a fan-out's read). */
  async *holders(instrument: string): AsyncGenerator<string[]> {
    yield [...this.positions]
      .filter(([, ps]) => ps.some((p) => p.instrument === instrument))
      .map(([id]) => id);
  }
}

/**
 * The guard-band table in memory, item for item as the DynamoDB adapter stores it (shared/bands/band-keys.ts):
 * bound items in price-bucket partitions, queried by the same crossing queries. With a meter, every
 * request is recorded with its units and partition key (bench/capacity).
 */
export class MemoryBands implements BandStore {
  readonly summaries = new Map<string, BandSummary>();
  /** partition → sort keys. */
  readonly items = new Map<string, Set<string>>();
  readonly watched = new Set<string>();
  writes = 0;
  rowWrites = 0;

  constructor(
    readonly shards = 1,
    private readonly meter?: Meter,
    /** Tables the index is striped over (band-keys.ts stripeOf); metered as Bands, Bands2, … */
    readonly stripes = 1,
  ) {}

  /** The metered table of an item: each stripe is a table with its own quota. */
  private tableOf(partition: string): string {
    const stripe = stripeOf(partition, this.stripes, this.shards);
    return stripe === 0 ? 'Bands' : `Bands${stripe + 1}`;
  }

  async getBandSummary(accountId: string) {
    const summary = this.summaries.get(accountId);
    this.meter?.record({
      service: 'dynamodb',
      resource: this.tableOf(summaryKey(accountId).partition),
      key: summaryKey(accountId).partition,
      read: readUnits(itemBytes(summary)),
      write: 0,
      requests: 1,
    });
    return summary ? structuredClone(summary) : null;
  }

  /** As BandRepository.writeBands: items put, then the conditional summary, then deletes; no transaction. */
  async writeBands(plan: BandWritePlan, orphans: readonly BandItemKey[] = []) {
    const changes = bandItemChanges(plan, orphans);
    const meter = (partition: string, bytes: number, requests = 0) =>
      this.meter?.record({
        service: 'dynamodb',
        resource: this.tableOf(partition),
        key: partition,
        read: 0,
        write: writeUnits(bytes),
        requests,
      });
    const version = plan.summary.version;
    this.meter?.record({
      service: 'dynamodb',
      resource: 'Bands',
      key: '',
      read: 0,
      write: 0,
      requests: Math.ceil(changes.puts.length / BATCH_WRITE_ITEMS),
    });
    for (const k of changes.puts) {
      let set = this.items.get(k.partition);
      if (!set) this.items.set(k.partition, (set = new Set()));
      set.add(k.sk);
      meter(k.partition, itemBytes({ ...k, v: version }));
    }
    if (plan.watch) this.watched.add(plan.accountId);
    meter(summaryKey(plan.accountId).partition, itemBytes(plan.summary), 1);
    if ((this.summaries.get(plan.accountId)?.version ?? 0) !== plan.expectedVersion)
      throw new BandConflict(plan.accountId, changes.puts);
    this.summaries.set(plan.accountId, structuredClone(plan.summary));
    for (const k of changes.deletes) {
      this.items.get(k.partition)?.delete(k.sk);
      meter(k.partition, itemBytes({ ...k, v: version }), 1);
    }
    if (plan.unwatch) this.watched.delete(plan.accountId);
    this.writes += 1;
    this.rowWrites += changes.puts.length + changes.deletes.length;
  }

  /** The queries a tick runs (band-keys.ts), answered from the items, each metered as a Query. */
  async crossedAccounts(tick: TickRange): Promise<CrossedAccounts | null> {
    const queries = crossingQueries(tick.instrument, tick.price, tick.lowest, tick.highest, this.shards);
    if (queries === null) return null;
    const bounded = new Set<string>();
    const unbanded = new Set<string>();
    for (const q of queries) {
      const sks = [...(this.items.get(q.partition) ?? [])].filter(
        (sk) => (q.from === undefined || sk >= q.from) && (q.below === undefined || sk < q.below),
      );
      const bytes = sks.reduce((n, sk) => n + sk.length + q.partition.length + 12, 0);
      this.meter?.record({
        service: 'dynamodb',
        resource: this.tableOf(q.partition),
        key: q.partition,
        read: readUnits(bytes),
        write: 0,
        requests: 1,
        perTick: { bytes },
      });
      if (q.partition.startsWith('x#')) sks.forEach((sk) => unbanded.add(sk));
      else sks.forEach((sk) => bounded.add(accountOfBoundKey(sk)));
    }
    return { bounded: [...bounded].sort(), unbanded: [...unbanded].sort() };
  }

  async *watchedAccounts() {
    yield [...this.watched];
  }
}

/** Handler dependencies over a MemoryStore with silent sinks: the evaluator's CPU and nothing else. */
export function memoryHandlerDeps(
  store: MemoryStore,
  options: { sweepSegments: number; concurrency: number },
  bands = new MemoryBands(),
): HandlerDeps {
  return {
    store,
    repo: store,
    bands,
    publisher: { publish: async () => {} },
    deadLetter: { send: async () => {} },
    workQueue: { enqueue: async () => {} },
    config: DEFAULT_PIPELINE_CONFIG,
    telemetry: new Tally(),
    env: { sweepSegments: options.sweepSegments, inlineFanoutLimit: 0 },
    log: { info: () => {}, warn: () => {}, error: () => {} },
    concurrency: options.concurrency,
  } as unknown as HandlerDeps;
}
