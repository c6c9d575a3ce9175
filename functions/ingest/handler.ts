import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { EventBridgeEvent } from 'aws-lambda';
import { InputError, safeParseFields } from '../../shared/errors.ts';
import type { ApplyOutcome } from '../../shared/ingest/apply.ts';
import { parseIngestUpdate, priceTicksSchema, type IngestUpdate } from '../../shared/ingest/contract.ts';
import type { PriceItem } from '../../shared/pipeline/records.ts';
import { readEnv } from '../lib/env.ts';
import { IngestRepository } from '../lib/ingest-repository.ts';
import { SqsDeadLetter, type DeadLetter } from '../lib/queues.ts';
import { RiskRepository } from '../lib/risk-repository.ts';
import { logger, metrics, withMetrics } from '../lib/runtime.ts';
import type { Telemetry } from '../lib/telemetry.ts';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';

export interface IngestDeps {
  ingest: { apply(update: IngestUpdate): Promise<ApplyOutcome> };
  prices: { putPriceIfNewer(price: PriceItem): Promise<boolean> };
  deadLetter: DeadLetter;
  telemetry: Telemetry;
  log: Pick<Logger, 'info'>;
}

export type IngestResult =
  { status: 'applied' | 'stale' | 'invalid' } | { status: 'prices'; stored: number; stale: number };

/** The update refused as not applicable yet: thrown so the bus's retries deliver it again later. */
export class NotYetApplicable extends Error {
  override readonly name = 'NotYetApplicable';
}

/**
 * One ingestion event from the broker's source on the bus (shared/ingest/contract.ts): validated, then
 * applied only if newer. Invalid input is dead-lettered naming every bad field (never retried: it cannot
 * change); a stale update is counted and acknowledged (a replay or a late duplicate changes nothing); an
 * update for an account that does not exist yet is thrown, so EventBridge's retries and the Lambda's own
 * deliver it again after the account's `AccountUpserted` (and, if they run out, the target's dead-letter
 * queue holds it, alarmed). The writes land on streamed tables: the evaluation follows from the streams.
 */
export async function handleIngestEvent(
  event: Pick<EventBridgeEvent<string, unknown>, 'detail-type' | 'detail'>,
  d: IngestDeps,
): Promise<IngestResult> {
  const raw = event.detail;
  const type = (raw as { type?: unknown } | null)?.type;
  try {
    if (type !== event['detail-type'])
      throw InputError.single(
        'type',
        `must equal the event's detail-type ${JSON.stringify(event['detail-type'])}`,
      );
    if (type === 'PriceTicks') {
      const parsed = safeParseFields(priceTicksSchema, raw);
      if (!parsed.success) throw parsed.error;
      let stored = 0;
      for (const tick of parsed.data.ticks) if (await d.prices.putPriceIfNewer(tick)) stored++;
      d.telemetry.count('IngestPricesStored', stored);
      d.telemetry.count('IngestPricesStale', parsed.data.ticks.length - stored);
      return { status: 'prices', stored, stale: parsed.data.ticks.length - stored };
    }
    const update = parseIngestUpdate(raw);
    const outcome = await d.ingest.apply(update);
    if (outcome.status === 'unknown-account') throw new NotYetApplicable(outcome.message);
    if (outcome.status === 'stale') {
      d.telemetry.count('IngestStale');
      d.log.info('stale ingestion update', {
        accountId: update.accountId,
        type: update.type,
        reason: outcome.message,
      });
      return { status: 'stale' };
    }
    d.telemetry.count('IngestApplied');
    return { status: 'applied' };
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    await d.deadLetter.send('invalid-ingest-update', event, e.issues);
    d.telemetry.count('DeadLettered');
    return { status: 'invalid' };
  }
}

let deps: IngestDeps | undefined;
export const handler = withMetrics(async (event: EventBridgeEvent<string, unknown>) => {
  deps ??= (() => {
    const env = readEnv();
    const client = new DynamoDBClient({});
    return {
      ingest: new IngestRepository(client, env.tables),
      prices: new RiskRepository(client, env.tables),
      deadLetter: new SqsDeadLetter(new SQSClient({}), env.deadLetterQueueUrl),
      telemetry: { count: (name, value = 1) => metrics.addMetric(name, MetricUnit.Count, value) },
      log: logger,
    };
  })();
  return handleIngestEvent(event, deps);
});
