import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Channel, ConsoleRole } from '../../shared/console/channels.ts';
import { pagesOf } from './pages.ts';
import { conditionFailed } from './conditional.ts';

export interface Connection {
  connectionId: string;
  role: ConsoleRole;
  user: string;
  channels: Channel[];
  accounts: string[] | null;
  connectedAt: string;
  /** Epoch seconds; API Gateway closes a WebSocket after 2 h, so the item goes soon after. */
  expiresAt: number;
}

/** Where messages go: API Gateway's management API on AWS, the local WebSocket server in local mode. */
export interface ConnectionGateway {
  /** 'gone' when the client has disconnected (the connection is then forgotten). */
  post(connectionId: string, data: string): Promise<'sent' | 'gone'>;
}

export class ApiGatewayConnections implements ConnectionGateway {
  constructor(private readonly client: ApiGatewayManagementApiClient) {}

  async post(connectionId: string, data: string): Promise<'sent' | 'gone'> {
    try {
      await this.client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
      return 'sent';
    } catch (e) {
      if (e instanceof GoneException || (e as { name?: string }).name === 'GoneException') return 'gone';
      throw e;
    }
  }
}

/** The connections table: who is connected, with which role, and what they subscribed to. */
export class ConnectionStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async put(c: Connection): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: c }));
  }

  async subscribe(connectionId: string, channels: Channel[], accounts: string[] | null): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { connectionId },
          UpdateExpression: 'SET channels = :c, accounts = :a',
          ConditionExpression: 'attribute_exists(connectionId)',
          ExpressionAttributeValues: { ':c': channels, ':a': accounts },
        }),
      );
      return true;
    } catch (e) {
      if (conditionFailed(e)) return false;
      throw e;
    }
  }

  async remove(connectionId: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { connectionId } }));
  }

  /** Every live connection (a console has tens of them, not millions: a scan is the right read). */
  async all(): Promise<Connection[]> {
    const out: Connection[] = [];
    for await (const page of pagesOf(this.doc, { kind: 'scan', TableName: this.table }))
      out.push(...(page as unknown as Connection[]));
    return out;
  }
}
