import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyResult, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { roleOfCaller, subscribeSchema } from '../../shared/console/channels.ts';
import { safeParseFields } from '../../shared/errors.ts';
import type { Connection, ConnectionStore } from '../lib/connections.ts';
import { ConnectionStore as DynamoConnectionStore } from '../lib/connections.ts';
import { readEnv, requireEnv } from '../lib/env.ts';

/** The connect request as API Gateway passes it (IAM-authorized: the caller's identity is in the context). */
export type WebSocketEvent = APIGatewayProxyWebsocketEventV2 & {
  requestContext: { identity?: { userArn?: string; caller?: string } };
};

export interface WebSocketDeps {
  connections: Pick<ConnectionStore, 'put' | 'subscribe' | 'remove'>;
  roles: { viewerRoleName: string; operatorRoleName: string };
  now: () => Date;
}

const reply = (statusCode: number, body: unknown): APIGatewayProxyResult => ({
  statusCode,
  body: JSON.stringify(body),
});

/**
 * $connect records who connected and with which console role; `subscribe` sets the channels and
 * accounts (a bad message is a 400 naming the field); $disconnect forgets the connection.
 */
export async function handleWebSocket(
  event: WebSocketEvent,
  d: WebSocketDeps,
): Promise<APIGatewayProxyResult> {
  const { connectionId, routeKey } = event.requestContext;
  switch (routeKey) {
    case '$connect': {
      const userArn = event.requestContext.identity?.userArn;
      const role = roleOfCaller(userArn, d.roles);
      if (role === 'none') return reply(403, { error: 'forbidden', message: 'no console role' });
      const now = d.now();
      const connection: Connection = {
        connectionId,
        role,
        user: userArn ?? 'unknown',
        channels: [],
        accounts: null,
        connectedAt: now.toISOString(),
        expiresAt: Math.floor(now.getTime() / 1000) + 2 * 3600 + 300,
      };
      await d.connections.put(connection);
      return reply(200, { connected: connectionId });
    }
    case '$disconnect':
      await d.connections.remove(connectionId);
      return reply(200, { disconnected: connectionId });
    default: {
      let raw: unknown;
      try {
        raw = JSON.parse(event.body ?? '');
      } catch {
        return reply(400, { error: 'invalid-input', issues: [{ field: 'body', message: 'not valid JSON' }] });
      }
      const parsed = safeParseFields(subscribeSchema, raw, ['body']);
      if (!parsed.success) return reply(400, { error: parsed.error.code, issues: parsed.error.issues });
      const { channels, accounts } = parsed.data;
      const known = await d.connections.subscribe(connectionId, channels, accounts ?? null);
      if (!known) return reply(410, { error: 'gone', message: 'connection not registered; reconnect' });
      return reply(200, { type: 'subscribed', channels, accounts: accounts ?? null });
    }
  }
}

let deps: WebSocketDeps | undefined;
export const handler = async (event: WebSocketEvent) => {
  deps ??= {
    connections: new DynamoConnectionStore(new DynamoDBClient({}), readEnv().tables.connections),
    roles: {
      viewerRoleName: requireEnv('VIEWER_ROLE_NAME'),
      operatorRoleName: requireEnv('OPERATOR_ROLE_NAME'),
    },
    now: () => new Date(),
  };
  return handleWebSocket(event, deps);
};
