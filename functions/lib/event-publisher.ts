import {
  PutEventsCommand,
  type EventBridgeClient,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { EVENT_SCHEMAS, EVENT_SOURCE, type DomainEvent } from '../../shared/events/schemas.ts';
import { sleep } from './risk-repository.ts';

export interface Publisher {
  publish(events: readonly DomainEvent[]): Promise<void>;
}

/**
 * PutEvents in batches of 10. Entries that fail (FailedEntryCount > 0) are retried with backoff; if any
 * still fail, it throws, so the caller's record is retried and the outbox keeps the events. Every
 * event is validated against its schema first: a malformed event is a bug, not something to send.
 */
export class EventBridgePublisher implements Publisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
    private readonly maxAttempts = 5,
  ) {}

  async publish(events: readonly DomainEvent[]): Promise<void> {
    const entries: PutEventsRequestEntry[] = events.map((e) => ({
      EventBusName: this.busName,
      Source: EVENT_SOURCE,
      DetailType: e.detailType,
      Detail: JSON.stringify(EVENT_SCHEMAS[e.detailType].parse(e.detail)),
      Resources: [],
    }));
    for (let i = 0; i < entries.length; i += 10) await this.sendBatch(entries.slice(i, i + 10));
  }

  private async sendBatch(batch: PutEventsRequestEntry[]): Promise<void> {
    let pending = batch;
    for (let attempt = 1; ; attempt++) {
      const out = await this.client.send(new PutEventsCommand({ Entries: pending }));
      if (!out.FailedEntryCount) return;
      const failed = pending.filter((_, i) => out.Entries?.[i]?.ErrorCode);
      if (attempt >= this.maxAttempts) {
        const codes = [...new Set(out.Entries?.map((e) => e.ErrorCode).filter(Boolean))].join(', ');
        throw new Error(
          `${failed.length} event(s) not accepted by EventBridge after ${attempt} attempts (${codes})`,
        );
      }
      pending = failed;
      await sleep(Math.min(2000, 50 * 2 ** attempt));
    }
  }
}
