import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Publisher } from '../functions/lib/event-publisher.ts';
import type { Channel, Notifier } from '../functions/lib/notifier.ts';
import type { Notification } from '../shared/escalation/messages.ts';
import { EVENT_SCHEMAS, EVENT_SOURCE, type DomainEvent } from '../shared/events/schemas.ts';

/** Appends one JSON object per line; the file is started afresh for every run. */
export class JsonlFile {
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, '');
  }

  write(record: unknown): void {
    appendFileSync(this.path, `${JSON.stringify(record)}\n`);
  }
}

/**
 * The EventBridge bus in local mode: each event is validated against its schema exactly as the real
 * publisher does, written to events.jsonl in the EventBridge envelope, and handed to the local rules.
 * Delivery is at least once (an outbox can be published twice in a race); like any consumer, the rules
 * here see each eventId once, while events.jsonl keeps every delivery.
 */
export class LocalBus implements Publisher {
  readonly published: DomainEvent[] = [];
  private readonly seen = new Set<string>();
  duplicates = 0;

  constructor(
    private readonly file: JsonlFile,
    private readonly rules: ((e: DomainEvent) => void)[],
    private readonly now: () => Date,
  ) {}

  async publish(events: readonly DomainEvent[]): Promise<void> {
    for (const e of events) {
      const detail = EVENT_SCHEMAS[e.detailType].parse(e.detail);
      this.file.write({
        source: EVENT_SOURCE,
        'detail-type': e.detailType,
        time: this.now().toISOString(),
        detail,
      });
      if (this.seen.has(detail.eventId)) {
        this.duplicates += 1;
        continue;
      }
      this.seen.add(detail.eventId);
      this.published.push(e);
      this.rules.forEach((rule) => rule(e));
    }
  }
}

/** SNS in local mode: notifications.jsonl, with the message attributes subscribers would filter on. */
export class LocalNotifier implements Notifier {
  readonly sent: { channel: Channel; n: Notification }[] = [];

  constructor(
    private readonly file: JsonlFile,
    private readonly onNotify: (channel: Channel, n: Notification) => void,
  ) {}

  async notify(channel: Channel, n: Notification): Promise<void> {
    this.file.write({
      channel: 'sns-topic',
      topic: channel,
      subject: n.subject,
      message: n.message,
      attributes: { severity: n.severity, level: n.level, accountId: n.accountId, kind: n.kind },
    });
    this.sent.push({ channel, n });
    this.onNotify(channel, n);
  }
}
