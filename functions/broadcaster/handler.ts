import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBStreamEvent, EventBridgeEvent } from 'aws-lambda';
import { eventMessages, type ChannelMessage } from '../../shared/console/channels.ts';
import { EVENT_SCHEMAS, type DetailType, type DomainEvent } from '../../shared/events/schemas.ts';
import { broadcast, messagesForChanges, streamChanges, type ChangedItem } from '../lib/broadcast.ts';
import { ApiGatewayConnections, ConnectionStore, type ConnectionGateway } from '../lib/connections.ts';
import { readEnv, requireEnv } from '../lib/env.ts';
import { SqsDeadLetter, type DeadLetter } from '../lib/queues.ts';
import { logger, metrics, withMetrics } from '../lib/runtime.ts';
import { MetricUnit } from '@aws-lambda-powertools/metrics';

export interface BroadcasterDeps {
  connections: Pick<ConnectionStore, 'all' | 'remove'>;
  gateway: ConnectionGateway;
  deadLetter: DeadLetter;
  /** Table name → which streamed table it is. */
  streamedTables: Record<string, ChangedItem['table']>;
}

type BusEvent = EventBridgeEvent<string, unknown>;

/** Bus events (risk status, alerts, order requests) and table streams (margin updates, audit) to browsers. */
export async function handleBroadcast(event: BusEvent | DynamoDBStreamEvent, d: BroadcasterDeps) {
  let messages: ChannelMessage[] = [];
  if ('detail-type' in event) {
    const type = event['detail-type'] as DetailType;
    const parsed = EVENT_SCHEMAS[type]?.safeParse(event.detail);
    if (parsed?.success) messages = eventMessages({ detailType: type, detail: parsed.data } as DomainEvent);
    else
      await d.deadLetter.send('console-event-invalid', event, parsed?.error.issues ?? 'unknown detail-type');
  } else {
    messages = await messagesForChanges(streamChanges(event, d.streamedTables), d.deadLetter);
  }
  if (messages.length === 0) return { messages: 0, sent: 0, gone: 0, failed: 0 };
  const connections = await d.connections.all();
  const result = await broadcast(messages, connections, d.gateway, (id) => d.connections.remove(id));
  return { messages: messages.length, ...result };
}

let deps: BroadcasterDeps | undefined;
export const handler = withMetrics(async (event: BusEvent | DynamoDBStreamEvent) => {
  if (!deps) {
    const env = readEnv();
    deps = {
      connections: new ConnectionStore(new DynamoDBClient({}), env.tables.connections),
      gateway: new ApiGatewayConnections(
        new ApiGatewayManagementApiClient({ endpoint: requireEnv('WEBSOCKET_CALLBACK_URL') }),
      ),
      deadLetter: new SqsDeadLetter(new SQSClient({}), env.deadLetterQueueUrl),
      streamedTables: { [env.tables.riskState]: 'riskState', [env.tables.actions]: 'actions' },
    };
  }
  const result = await handleBroadcast(event, deps);
  metrics.addMetric('ConsoleMessagesSent', MetricUnit.Count, result.sent);
  if (result.failed > 0) {
    metrics.addMetric('ConsoleDeliveryFailures', MetricUnit.Count, result.failed);
    logger.warn('console deliveries failed', { ...result });
  }
  return result;
});
