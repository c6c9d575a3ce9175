import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import {
  auditMessage,
  CHANNEL_SCHEMAS,
  marginUpdateMessage,
  wants,
  type AuditRecord,
  type ChannelMessage,
} from '../../shared/console/channels.ts';
import type { StoredRiskState } from '../../shared/pipeline/stored-state.ts';
import { forEachLimit } from './concurrency.ts';
import type { Connection, ConnectionGateway } from './connections.ts';
import type { DeadLetter } from './queues.ts';

/** A changed item of a streamed table (the stream's old and new images, unmarshalled). */
export interface ChangedItem {
  table: 'riskState' | 'actions';
  oldImage: Record<string, unknown> | null;
  newImage: Record<string, unknown> | null;
}

/** A DynamoDB stream batch as changed items of the tables we know (others are ignored). */
export function streamChanges(
  event: DynamoDBStreamEvent,
  tables: Record<string, ChangedItem['table']>,
): ChangedItem[] {
  return event.Records.flatMap((r) => {
    const table = tables[r.eventSourceARN?.split(':table/')[1]?.split('/')[0] ?? ''];
    return table ? [changedItem(table, r)] : [];
  });
}

/** One stream record of a known table, its images unmarshalled. */
export function changedItem(table: ChangedItem['table'], r: DynamoDBRecord): ChangedItem {
  const image = (i: unknown) => (i ? unmarshall(i as Record<string, AttributeValue>) : null);
  return { table, oldImage: image(r.dynamodb?.OldImage), newImage: image(r.dynamodb?.NewImage) };
}

/**
 * Channel messages for changed items: a risk state whose version moved is a margin update (an outbox
 * being emptied is not); a new audit entry is an action or an alert. Each message is checked against its
 * schema; one that fails goes to the dead-letter queue, never to a browser.
 */
export async function messagesForChanges(
  changes: readonly ChangedItem[],
  deadLetter: DeadLetter,
): Promise<ChannelMessage[]> {
  const messages: ChannelMessage[] = [];
  for (const c of changes) {
    let message: ChannelMessage | null = null;
    try {
      if (c.table === 'riskState' && c.newImage && c.newImage.version !== c.oldImage?.version)
        message = marginUpdateMessage(c.newImage as unknown as StoredRiskState);
      if (
        c.table === 'actions' &&
        c.newImage &&
        !c.oldImage &&
        String(c.newImage.actionKey).startsWith('AUDIT#')
      )
        message = auditMessage(c.newImage as unknown as AuditRecord);
    } catch (e) {
      await deadLetter.send('console-message-invalid', c, (e as Error).message);
      continue;
    }
    if (!message) continue;
    const checked = CHANNEL_SCHEMAS[message.type].safeParse(message.detail);
    if (checked.success) messages.push(message);
    else await deadLetter.send('console-message-invalid', c, checked.error.issues);
  }
  return messages;
}

export interface BroadcastResult {
  sent: number;
  gone: number;
  failed: number;
}

/**
 * Sends each connection the messages it subscribed to, in order. A connection that has gone is forgotten;
 * one that fails is counted and skipped — a broken browser never holds up the others or the bus.
 */
export async function broadcast(
  messages: readonly ChannelMessage[],
  connections: readonly Connection[],
  gateway: ConnectionGateway,
  forget: (connectionId: string) => Promise<void>,
): Promise<BroadcastResult> {
  const result: BroadcastResult = { sent: 0, gone: 0, failed: 0 };
  const failures = await forEachLimit(connections, 16, async (c) => {
    for (const m of messages) {
      if (!wants(c, m)) continue;
      const outcome = await gateway.post(c.connectionId, JSON.stringify(m));
      if (outcome === 'gone') {
        result.gone += 1;
        await forget(c.connectionId);
        return;
      }
      result.sent += 1;
    }
  });
  result.failed = failures.length;
  return result;
}
