import type { DomainEvent } from '../../shared/events/schemas.ts';
import type { Publisher } from '../../functions/lib/event-publisher.ts';
import type { DeadLetter, WorkMessage, WorkQueue } from '../../functions/lib/queues.ts';

/** In-memory stand-ins for the bus, the dead-letter queue and the work queue, that remember everything. */
export class CapturedPublisher implements Publisher {
  readonly events: DomainEvent[] = [];
  failNext = 0;
  async publish(events: readonly DomainEvent[]): Promise<void> {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('bus unavailable');
    }
    this.events.push(...events);
  }
  types(): string[] {
    return this.events.map((e) => e.detailType);
  }
}

export class CapturedDeadLetter implements DeadLetter {
  readonly records: { reason: string; record: unknown; issues?: unknown }[] = [];
  async send(reason: string, record: unknown, issues?: unknown): Promise<void> {
    this.records.push({ reason, record, issues });
  }
}

export class CapturedWorkQueue implements WorkQueue {
  readonly messages: WorkMessage[] = [];
  async enqueue(messages: readonly WorkMessage[]): Promise<void> {
    this.messages.push(...messages);
  }
  drain(): WorkMessage[] {
    return this.messages.splice(0, this.messages.length);
  }
}

import type { Channel, Notifier } from '../../functions/lib/notifier.ts';
import type { Notification } from '../../shared/escalation/messages.ts';

export class CapturedNotifier implements Notifier {
  readonly sent: { channel: Channel; n: Notification }[] = [];
  async notify(channel: Channel, n: Notification): Promise<void> {
    this.sent.push({ channel, n });
  }
  kinds(): string[] {
    return this.sent.map((s) => `${s.channel}:${s.n.kind}`);
  }
}
