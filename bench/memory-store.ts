import { type BandSummary, type BandWritePlan } from '../shared/bands/band-rows.ts';
import { Decimal } from '../shared/decimal.ts';
import { BandConflict } from '../functions/lib/bands-repository.ts';
import type { BandStore, RiskStore } from '../functions/lib/evaluate-account.ts';
import type { HandlerDeps } from '../functions/lib/runtime.ts';
import { Tally } from '../functions/lib/telemetry.ts';
import { DEFAULT_PIPELINE_CONFIG } from '../shared/pipeline/config.ts';
import { VersionConflict } from '../functions/lib/risk-repository.ts';
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

  async getAccount(id: string) {
    this.evaluations += 1;
    return this.accounts.get(id) ?? null;
  }
  async getPositions(id: string) {
    return this.positions.get(id) ?? [];
  }
  async getPrices(instruments: readonly string[]) {
    return new Map(instruments.filter((i) => this.prices.has(i)).map((i) => [i, this.prices.get(i)!]));
  }
  async getRiskState(id: string) {
    const s = this.states.get(id);
    return s ? (JSON.parse(s) as StoredRiskState) : null;
  }
  async saveRiskState(state: StoredRiskState, expected: number, history: HistoryItem | null) {
    const current = this.states.get(state.accountId);
    if ((current ? (JSON.parse(current) as StoredRiskState).version : 0) !== expected)
      throw new VersionConflict(state.accountId, expected);
    const text = JSON.stringify(state);
    this.states.set(state.accountId, text);
    this.writes += 1;
    this.bytesWritten += text.length + (history ? JSON.stringify(history).length : 0);
    if (history) this.historyWrites += 1;
  }
  async clearOutbox(id: string) {
    const s = this.states.get(id);
    if (s) this.states.set(id, JSON.stringify({ ...JSON.parse(s), outbox: [] }));
  }
  async scanAccounts(segment: number, total: number, start?: Record<string, unknown>) {
    const ids = [...this.accounts.keys()].filter((_, i) => i % total === segment);
    const from = start ? Number(start.offset) : 0;
    const page = ids.slice(from, from + 100);
    return { accountIds: page, ...(from + 100 < ids.length ? { next: { offset: from + 100 } } : {}) };
  }
}

/** The guard-band table's contract in memory (rows per instrument; queries scan the instrument's rows). */
export class MemoryBands implements BandStore {
  readonly shards = 1;
  readonly summaries = new Map<string, BandSummary>();
  readonly rows = new Map<string, Map<string, { low: string | null; high: string | null }>>();
  readonly watched = new Set<string>();
  writes = 0;
  rowWrites = 0;

  async getBandSummary(accountId: string) {
    const summary = this.summaries.get(accountId);
    return summary ? structuredClone(summary) : null;
  }
  async writeBands(plan: BandWritePlan) {
    if ((this.summaries.get(plan.accountId)?.version ?? 0) !== plan.expectedVersion)
      throw new BandConflict(plan.accountId, false);
    for (const row of plan.puts) {
      let byAccount = this.rows.get(row.instrument);
      if (!byAccount) this.rows.set(row.instrument, (byAccount = new Map()));
      byAccount.set(row.accountId, { low: row.low, high: row.high });
    }
    for (const instrument of plan.deletes) this.rows.get(instrument)?.delete(plan.accountId);
    if (plan.watch) this.watched.add(plan.accountId);
    if (plan.unwatch) this.watched.delete(plan.accountId);
    this.summaries.set(plan.accountId, structuredClone(plan.summary));
    this.writes += 1;
    this.rowWrites += plan.puts.length + plan.deletes.length;
  }
  /** Accounts whose band for `instrument` does not strictly contain `price`. */
  crossed(instrument: string, price: string): string[] {
    const p = new Decimal(price);
    return (
      [...(this.rows.get(instrument) ?? [])]
        // An unbanded account's rows have low = ALWAYS_LOW, above any price: every tick finds them.
        .filter(
          ([, r]) =>
            (r.low !== null && p.lessThanOrEqualTo(r.low)) ||
            (r.high !== null && p.greaterThanOrEqualTo(r.high)),
        )
        .map(([id]) => id)
    );
  }
  async *crossedAccounts(instrument: string, price: string) {
    yield this.crossed(instrument, price);
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
