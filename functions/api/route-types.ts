/**
 * The API's route and dependency types, apart from the routes themselves: route modules (routes.ts,
 * broker-controls.ts, ingest-routes.ts) import these, and routes.ts gathers the modules' routes, so no
 * two modules import each other.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { z } from 'zod';
import type { OverviewSummary } from '../../shared/console/summary.ts';
import type { ApplyOutcome } from '../../shared/ingest/apply.ts';
import type { IngestUpdate } from '../../shared/ingest/contract.ts';
import type { Alert } from '../../shared/notify/alert.ts';
import type { NotificationPolicy } from '../../shared/notify/policy.ts';
import type { RestrictionPolicy } from '../../shared/risk/restrictions.ts';
import type { AckLinkDeps } from '../lib/ack-links.ts';
import type { ActionsRepository, SettingsRepository } from '../lib/actions-repository.ts';
import type { BandRepository } from '../lib/bands-repository.ts';
import type { Acknowledgement } from '../lib/dispatcher.ts';
import type { Publisher } from '../lib/event-publisher.ts';
import type { OverviewRepository } from '../lib/overview-repository.ts';
import type { RiskRepository } from '../lib/risk-repository.ts';
import type { Identify } from './identity.ts';

export interface ApiDeps {
  repo: RiskRepository;
  bands: Pick<BandRepository, 'getBandSummary'>;
  actions: ActionsRepository;
  settings: SettingsRepository;
  publisher: Publisher;
  /** Writes to the accounts table (threshold updates). */
  updateAccount(accountId: string, fields: Record<string, unknown>): Promise<void>;
  queryHistory(
    accountId: string,
    limit: number,
    start?: Record<string, unknown>,
  ): Promise<{ items: unknown[]; next?: Record<string, unknown> }>;
  overview: Pick<OverviewRepository, 'list' | 'holds'>;
  /** Page acknowledgement (REST, by the signed-in person; one-click links, by their recipient). */
  pages: {
    acknowledge(pageId: string, by: string): Promise<Acknowledgement | null>;
    /**
     * The keys that verify acknowledgement links, current first (after a rotation also the previous one);
     * given the link, so a key id this container has not seen yet can make it re-read them.
     */
    ackSecret(token?: string): Promise<string | readonly string[]>;
    /** The pages and the links' single use (functions/lib/ack-links.ts). */
    store: AckLinkDeps['store'];
  };
  /** The notification policy in force (stored, or the deployment's default). */
  notificationPolicy(): Promise<NotificationPolicy>;
  /** Tells people about a manual action through the notification policy (category manual-action). */
  notify?: (alert: Alert) => Promise<unknown>;
  /** Trading restrictions by level and margin call (default: DEFAULT_RESTRICTION_POLICY, as the evaluator's). */
  restrictionPolicy?: RestrictionPolicy;
  /** The latest all-accounts summary the summary job wrote; null before its first run. */
  readSummary(): Promise<OverviewSummary | null>;
  /**
   * The person behind a request (the Cognito user on AWS, the development login locally); without it,
   * only IAM callers that are no console sign-in can act.
   */
  identify?: Identify;
  /** Applies ingestion updates only if newer (functions/lib/ingest-repository.ts); without it, a 501. */
  ingest?: { apply(update: IngestUpdate): Promise<ApplyOutcome> };
  stage: string;
  now?: () => Date;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  summary: string;
  /** No IAM: the request carries its own proof (a signed, expiring one-click acknowledgement link). */
  public?: true;
  body?: z.ZodType;
  /** The body's media type when it is not JSON (the confirmation page's form). */
  bodyType?: 'application/x-www-form-urlencoded';
  handle(event: APIGatewayProxyEvent, d: ApiDeps): Promise<APIGatewayProxyResult>;
}
