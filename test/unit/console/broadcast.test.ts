import {
  ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { handleBroadcast, type BroadcasterDeps } from '../../../functions/broadcaster/handler.ts';
import { ApiGatewayConnections, type Connection } from '../../../functions/lib/connections.ts';
import { handleWebSocket, type WebSocketEvent } from '../../../functions/websocket/handler.ts';
import type { Channel } from '../../../shared/console/channels.ts';
import { CapturedDeadLetter } from '../../helpers/capture.ts';

const levelChanged = {
  schemaVersion: '1',
  eventId: 'e1',
  accountId: 'A1',
  occurredAt: '2026-11-24T10:00:00.000Z',
  from: 'WARNING',
  to: 'CRITICAL',
  marginRatio: '1.4',
  equity: '3500',
  maintenanceRequirement: '2500',
  excessLiquidity: '1000',
  callMove: '-0.2',
  zeroEquityMove: '-0.35',
  incidentId: 'inc-1',
  staleInstruments: [],
};

const connection = (id: string, channels: Channel[], accounts: string[] | null = null): Connection => ({
  connectionId: id,
  role: 'viewer',
  user: 'u',
  channels,
  accounts,
  connectedAt: '2026-11-24T09:00:00.000Z',
  expiresAt: 0,
});

function fakes(connections: Connection[], failing: string[] = [], gone: string[] = []) {
  const posted: {
    id: string;
    message: { channel: string; type: string; detail: Record<string, unknown> };
  }[] = [];
  const removed: string[] = [];
  const deadLetter = new CapturedDeadLetter();
  const deps: BroadcasterDeps = {
    connections: { all: async () => connections, remove: async (id) => void removed.push(id) },
    gateway: {
      post: async (id, data) => {
        if (failing.includes(id)) throw new Error('socket broke');
        if (gone.includes(id)) return 'gone';
        posted.push({ id, message: JSON.parse(data) });
        return 'sent';
      },
    },
    deadLetter,
    streamedTables: { 'mg-RiskState': 'riskState', 'mg-Actions': 'actions' },
  };
  return { deps, posted, removed, deadLetter };
}

const busEvent = (detailType: string, detail: unknown) =>
  ({ 'detail-type': detailType, source: 'margin-guard', detail }) as never;

const streamEvent = (
  table: string,
  oldImage: object | null,
  newImage: object | null,
): DynamoDBStreamEvent => ({
  Records: [
    {
      eventSourceARN: `arn:aws:dynamodb:eu-west-1:1:table/${table}/stream/2026`,
      dynamodb: {
        ...(oldImage ? { OldImage: marshall(oldImage, { removeUndefinedValues: true }) as never } : {}),
        ...(newImage ? { NewImage: marshall(newImage, { removeUndefinedValues: true }) as never } : {}),
      },
    },
  ],
});

describe('console broadcaster', () => {
  it('sends a bus event to the connections subscribed to its channel and account; forgets gone ones', async () => {
    const f = fakes(
      [
        connection('status-all', ['risk-status']),
        connection('status-A2', ['risk-status'], ['A2']),
        connection('actions-only', ['actions']),
        connection('broken', ['risk-status']),
        connection('closed', ['risk-status']),
        connection('status-A1', ['risk-status', 'alerts'], ['A1']),
      ],
      ['broken'],
      ['closed'],
    );
    const result = await handleBroadcast(busEvent('RiskLevelChanged', levelChanged), f.deps);
    expect(f.posted.map((p) => p.id).sort()).toEqual(['status-A1', 'status-all']);
    expect(f.posted[0]!.message).toMatchObject({
      channel: 'risk-status',
      type: 'RiskLevelChanged',
      detail: levelChanged,
    });
    expect(f.removed).toEqual(['closed']);
    expect(result).toEqual({ messages: 1, sent: 2, gone: 1, failed: 1 });
  });

  it('dead-letters a bus event that breaks its schema instead of sending it', async () => {
    const f = fakes([connection('c', ['risk-status'])]);
    await handleBroadcast(busEvent('RiskLevelChanged', { ...levelChanged, marginRatio: 1.4 }), f.deps);
    expect(f.posted).toEqual([]);
    expect(f.deadLetter.records[0]).toMatchObject({ reason: 'console-event-invalid' });
  });

  const state = (version: number, outbox: unknown[] = []) => ({
    accountId: 'A1',
    version,
    evaluatedAt: '2026-11-24T10:00:00.000Z',
    level: 'WARNING',
    marginRatio: '1.8',
    equity: '4500',
    maintenanceRequirement: '2500',
    inMarginCall: false,
    staleInstruments: [],
    dataProblem: null,
    evaluation: null,
    tracker: {},
    outbox,
  });

  it('a written risk state is a margin update; emptying its outbox (same version) is not', async () => {
    const f = fakes([connection('m', ['margin-updates'])]);
    await handleBroadcast(streamEvent('mg-RiskState', state(3), state(4)), f.deps);
    await handleBroadcast(streamEvent('mg-RiskState', state(4, [{}]), state(4)), f.deps);
    expect(f.posted).toHaveLength(1);
    expect(f.posted[0]!.message).toMatchObject({
      channel: 'margin-updates',
      type: 'MarginUpdated',
      detail: { accountId: 'A1', version: 4, level: 'WARNING', marginRatio: '1.8', callMove: null },
    });
  });

  it('a new audit entry goes to actions, or to alerts when it is an alert; other action items do not', async () => {
    const f = fakes([connection('a', ['actions']), connection('l', ['alerts'])]);
    const audit = (action: string) => ({
      accountId: 'A1',
      actionKey: `AUDIT#2026-11-24T10:00:00.000Z#000001#${action}`,
      at: '2026-11-24T10:00:00.000Z',
      action,
      actor: 'api:dev:operator/alice',
      details: { reason: 'client wiring funds' },
    });
    await handleBroadcast(streamEvent('mg-Actions', null, audit('hold')), f.deps);
    await handleBroadcast(streamEvent('mg-Actions', null, audit('alert')), f.deps);
    await handleBroadcast(streamEvent('mg-Actions', null, { accountId: 'A1', actionKey: 'HOLD' }), f.deps);
    expect(f.posted.map((p) => [p.id, p.message.detail.action])).toEqual([
      ['a', 'hold'],
      ['l', 'alert'],
    ]);
  });
});

describe('WebSocket routes', () => {
  const roles = { viewerRoleName: 'mg-viewer', operatorRoleName: 'mg-operator' };
  const event = (routeKey: string, body?: string, userArn?: string) =>
    ({
      body,
      requestContext: { connectionId: 'c1', routeKey, identity: { userArn } },
    }) as unknown as WebSocketEvent;

  it('records the caller’s console role on connect and validates subscriptions, naming the field', async () => {
    const stored = new Map<string, Connection>();
    const deps = {
      roles,
      now: () => new Date('2026-11-24T10:00:00Z'),
      connections: {
        put: async (c: Connection) => void stored.set(c.connectionId, c),
        subscribe: async (id: string, channels: Channel[], accounts: string[] | null) => {
          const c = stored.get(id);
          if (c) Object.assign(c, { channels, accounts });
          return c !== undefined;
        },
        remove: async (id: string) => void stored.delete(id),
      },
    };
    const arn = 'arn:aws:sts::123456789012:assumed-role/mg-operator/CognitoIdentityCredentials';
    expect((await handleWebSocket(event('$connect', undefined, arn), deps)).statusCode).toBe(200);
    expect(stored.get('c1')).toMatchObject({ role: 'operator', channels: [] });
    const bad = await handleWebSocket(
      event('subscribe', '{"action":"subscribe","channels":["gossip"]}'),
      deps,
    );
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body!).issues[0].field).toBe('body.channels[0]');
    const ok = await handleWebSocket(
      event('subscribe', '{"action":"subscribe","channels":["alerts"],"accounts":["A1"]}'),
      deps,
    );
    expect(ok.statusCode).toBe(200);
    expect(stored.get('c1')).toMatchObject({ channels: ['alerts'], accounts: ['A1'] });
    await handleWebSocket(event('$disconnect'), deps);
    expect(
      (await handleWebSocket(event('subscribe', '{"action":"subscribe","channels":["alerts"]}'), deps))
        .statusCode,
    ).toBe(410);
    expect((await handleWebSocket(event('$connect'), deps)).statusCode).toBe(403);
  });
});

describe('ApiGatewayConnections', () => {
  it('a GoneException is a gone connection; any other failure is an error', async () => {
    const api = mockClient(ApiGatewayManagementApiClient);
    const gateway = new ApiGatewayConnections(new ApiGatewayManagementApiClient({ region: 'eu-west-1' }));
    api
      .on(PostToConnectionCommand, { ConnectionId: 'gone' })
      .rejects(new GoneException({ message: 'gone', $metadata: {} }));
    api.on(PostToConnectionCommand, { ConnectionId: 'broken' }).rejects(new Error('throttled'));
    api.on(PostToConnectionCommand, { ConnectionId: 'ok' }).resolves({});
    expect(await gateway.post('ok', '{}')).toBe('sent');
    expect(await gateway.post('gone', '{}')).toBe('gone');
    await expect(gateway.post('broken', '{}')).rejects.toThrow('throttled');
  });
});
