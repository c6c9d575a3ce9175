/**
 * Meters every AWS call the in-memory adapters stand in for, by AWS's own accounting rules:
 * - DynamoDB writes: 1 write unit per KB of item (rounded up per item), ×2 inside a transaction; a
 *   global index adds its own writes (a key change is a delete and a put);
 * - DynamoDB reads: 1 read unit per 4 KB strongly consistent (half eventually), rounded up per item for
 *   GetItem/BatchGetItem and over the whole page for Query (at least one unit);
 * - SQS, PutEvents, StartExecution, notifications: one request (or entry) each.
 * Keys are what a throughput limit applies to: a DynamoDB partition key, a queue, a state machine.
 */
export type Service = 'dynamodb' | 'sqs' | 'events' | 'sfn' | 'notify';

export interface Metered {
  service: Service;
  /** Table (or table/index), queue, bus, channel. */
  resource: string;
  /** The partition key (DynamoDB) or '' where the limit is per resource. */
  key: string;
  read: number;
  write: number;
  requests: number;
  /**
   * A request made once per tick or per message, not per account (a band-index query): its count does
   * not grow with the accounts a sample account stands for; only the bytes it returns do (`bytes`).
   */
  perTick?: { bytes: number };
  /**
   * A read made after the evaluation's band write (the re-check's fresh price read, and what it re-reads
   * when it re-evaluates): the state writes and level changes do not wait for it.
   */
  afterBands?: boolean;
}

/** Bytes of an item as DynamoDB sizes it, approximately: attribute names plus values. */
export function itemBytes(item: unknown): number {
  return JSON.stringify(item ?? null).length;
}

export const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
export const readUnits = (bytes: number, strong = true) =>
  Math.max(strong ? 1 : 0.5, Math.ceil(bytes / 4096) * (strong ? 1 : 0.5));

export class Meter {
  readonly calls: Metered[] = [];
  /** Set false to stop recording (seeding a book). */
  on = true;

  record(call: Metered): void {
    if (this.on) this.calls.push(call);
  }

  take(): Metered[] {
    return this.calls.splice(0, this.calls.length);
  }

  /** Totals of one batch of calls: per resource and per key. */
  static totals(calls: readonly Metered[]) {
    const byResource = new Map<string, { read: number; write: number; requests: number }>();
    const byKey = new Map<string, { read: number; write: number; requests: number }>();
    for (const c of calls) {
      for (const [map, id] of [
        [byResource, `${c.service}:${c.resource}`],
        [byKey, `${c.service}:${c.resource}:${c.key}`],
      ] as const) {
        const t = map.get(id) ?? { read: 0, write: 0, requests: 0 };
        t.read += c.read;
        t.write += c.write;
        t.requests += c.requests;
        map.set(id, t);
      }
    }
    return { byResource, byKey };
  }
}
