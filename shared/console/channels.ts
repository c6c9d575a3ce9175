import { z } from 'zod';
import { EVENT_SCHEMAS, SCHEMA_VERSION, type DetailType, type DomainEvent } from '../events/schemas.ts';
import type { StoredRiskState } from '../pipeline/stored-state.ts';
import { RISK_LEVELS } from '../risk/levels.ts';

/**
 * The console's live channels. Bus events keep their versioned detail (the same zod schemas as the bus);
 * the two channel-only payloads below are versioned the same way and documented as JSON Schema.
 */
export const CHANNELS = ['risk-status', 'margin-updates', 'alerts', 'actions'] as const;
export type Channel = (typeof CHANNELS)[number];

export const accountIdSchema = z.string().regex(/^[A-Za-z0-9._:@-]{1,128}$/, 'not a valid account id');

export const subscribeSchema = z
  .object({
    action: z.literal('subscribe'),
    channels: z.array(z.enum(CHANNELS)).min(1),
    /** Only these accounts; every account the caller may read when absent. */
    accounts: z.array(accountIdSchema).max(500).optional(),
  })
  .strict();
export type Subscription = Omit<z.output<typeof subscribeSchema>, 'action'>;

const decimal = z.string().regex(/^-?\d+(\.\d+)?$/, 'a decimal string');

export const marginUpdatedSchema = z
  .object({
    schemaVersion: z.literal(SCHEMA_VERSION),
    accountId: z.string(),
    version: z.number().int(),
    evaluatedAt: z.string(),
    level: z.enum(RISK_LEVELS).nullable(),
    marginRatio: decimal.nullable(),
    equity: decimal.nullable(),
    maintenanceRequirement: decimal.nullable(),
    excessLiquidity: decimal.nullable(),
    grossExposure: decimal.nullable(),
    inMarginCall: z.boolean(),
    callMove: decimal.nullable(),
    zeroEquityMove: decimal.nullable(),
    dataProblem: z.string().nullable(),
  })
  .meta({
    title: 'MarginUpdated',
    description: 'A written evaluation of one account (channel margin-updates): on change and heartbeat.',
  });

export const actionRecordedSchema = z
  .object({
    schemaVersion: z.literal(SCHEMA_VERSION),
    accountId: z.string(),
    at: z.string(),
    action: z.string(),
    actor: z.string(),
    incidentId: z.string().nullable(),
    details: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({
    title: 'ActionRecorded',
    description:
      'An audit-trail entry (channels actions and alerts): escalation steps, alerts, holds, manual actions.',
  });

export const CHANNEL_SCHEMAS = {
  ...EVENT_SCHEMAS,
  MarginUpdated: marginUpdatedSchema,
  ActionRecorded: actionRecordedSchema,
} as const;
export type MessageType = keyof typeof CHANNEL_SCHEMAS;

export interface ChannelMessage {
  channel: Channel;
  type: MessageType;
  accountId: string;
  detail: Record<string, unknown>;
}

const EVENT_CHANNELS: Record<DetailType, Channel[]> = {
  RiskLevelChanged: ['risk-status'],
  MarginCallTriggered: ['risk-status', 'alerts'],
  MarginCallResolved: ['risk-status', 'alerts'],
  RiskDataProblem: ['risk-status', 'alerts'],
  DeleverageRequested: ['actions'],
  LiquidationRequested: ['actions'],
  AdlQueuePublished: ['actions'],
  TradingRestrictionChanged: ['risk-status'],
};

/** Audit actions that are alerts and pages rather than actions taken. */
const ALERT_ACTIONS = new Set([
  'alert',
  'escalation-failed',
  'resolved',
  'notification',
  'alert-suppressed',
  'page',
  'page-repeated',
  'page-escalated',
  'page-acknowledged',
  'page-exhausted',
]);

export function eventMessages(e: DomainEvent): ChannelMessage[] {
  return EVENT_CHANNELS[e.detailType].map((channel) => ({
    channel,
    type: e.detailType,
    accountId: e.detail.accountId,
    detail: e.detail as unknown as Record<string, unknown>,
  }));
}

/** A written risk state (the risk-state stream's new image) as a margin update. */
export function marginUpdateMessage(state: StoredRiskState): ChannelMessage {
  const e = state.evaluation;
  const detail: z.output<typeof marginUpdatedSchema> = {
    schemaVersion: SCHEMA_VERSION,
    accountId: state.accountId,
    version: state.version,
    evaluatedAt: state.evaluatedAt,
    level: state.level,
    marginRatio: state.marginRatio,
    equity: state.equity,
    maintenanceRequirement: state.maintenanceRequirement,
    excessLiquidity: e?.excessLiquidity ?? null,
    grossExposure: e?.grossExposure ?? null,
    inMarginCall: state.inMarginCall,
    callMove: e?.distanceToCall.call.move ?? null,
    zeroEquityMove: e?.distanceToCall.zeroEquity.move ?? null,
    dataProblem: state.dataProblem?.kind ?? null,
  };
  return { channel: 'margin-updates', type: 'MarginUpdated', accountId: state.accountId, detail };
}

export interface AuditRecord {
  accountId: string;
  at: string;
  action: string;
  actor: string;
  incidentId?: string;
  details?: Record<string, unknown>;
}

/** An audit entry (the actions stream's new audit items) on the actions or the alerts channel. */
export function auditMessage(entry: AuditRecord): ChannelMessage {
  const detail: z.output<typeof actionRecordedSchema> = {
    schemaVersion: SCHEMA_VERSION,
    accountId: entry.accountId,
    at: entry.at,
    action: entry.action,
    actor: entry.actor,
    incidentId: entry.incidentId ?? null,
    details: entry.details ?? null,
  };
  return {
    channel: ALERT_ACTIONS.has(entry.action) ? 'alerts' : 'actions',
    type: 'ActionRecorded',
    accountId: entry.accountId,
    detail,
  };
}

/** What a connection receives: its channels, its accounts (if it named any), and what its role may read. */
export function wants(
  connection: { channels: readonly Channel[]; accounts?: readonly string[] | null; role: string },
  message: ChannelMessage,
): boolean {
  return (
    canReadChannel(connection.role, message.channel) &&
    connection.channels.includes(message.channel) &&
    (!connection.accounts || connection.accounts.includes(message.accountId))
  );
}

/** Console roles: viewers read everything and change nothing; operators also act. */
export const CONSOLE_ROLES = ['viewer', 'operator'] as const;
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];

export const isConsoleRole = (role: string): role is ConsoleRole =>
  (CONSOLE_ROLES as readonly string[]).includes(role);

export function canReadChannel(role: string, _channel: Channel): boolean {
  return isConsoleRole(role);
}

/** The REST API's rule, enforced by IAM on AWS (the viewer role may only invoke GET) and by the local server. */
export function canCall(role: string, method: string): boolean {
  return method === 'GET' ? isConsoleRole(role) : role === 'operator';
}

/**
 * The console role of a WebSocket or REST caller on AWS, from its IAM identity: the identity pool's viewer
 * and operator roles map to themselves; any other IAM caller that was allowed to connect only reads.
 */
export function roleOfCaller(
  userArn: string | undefined,
  roles: { viewerRoleName: string; operatorRoleName: string },
): ConsoleRole | 'none' {
  if (!userArn) return 'none';
  const assumed = /:assumed-role\/([^/]+)\//.exec(userArn)?.[1];
  if (assumed === roles.operatorRoleName) return 'operator';
  return 'viewer';
}
