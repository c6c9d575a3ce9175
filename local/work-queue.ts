import { coalesceId, type WorkMessage, type WorkQueue } from '../functions/lib/queues.ts';

/** How long SQS FIFO remembers a de-duplication id (SQS Developer Guide: five minutes). */
export const FIFO_DEDUP_WINDOW_MS = 5 * 60_000;

/**
 * The work queue in local mode: messages wait in process until the replay hands them to the worker.
 * Coalesced messages are de-duplicated as the FIFO queue does on AWS: the same id (`coalesceId`, account
 * and second, on the local clock) within five minutes of the first is accepted and dropped, so an
 * unbanded account is evaluated at most once per simulated second however many ticks find it.
 */
export class LocalWorkQueue implements WorkQueue {
  readonly messages: WorkMessage[] = [];
  /** De-duplication id → when it was first accepted. */
  private readonly seen = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  async enqueue(messages: readonly WorkMessage[]): Promise<void> {
    const now = this.now();
    for (const [id, at] of this.seen) if (now - at >= FIFO_DEDUP_WINDOW_MS) this.seen.delete(id);
    for (const m of messages) {
      if (m.kind === 'accounts' && m.coalesce) {
        const id = coalesceId(m.accountIds[0]!, now);
        if (this.seen.has(id)) continue;
        this.seen.set(id, now);
      }
      this.messages.push(m);
    }
  }

  /** Every waiting message, in order; the queue is empty after. */
  drain(): WorkMessage[] {
    return this.messages.splice(0);
  }
}
