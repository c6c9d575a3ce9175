import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { readEnv, type RuntimeEnv } from './env.ts';
import { EventBridgePublisher } from './event-publisher.ts';
import type { BandStore, EvaluatorDeps } from './evaluate-account.ts';
import { SqsDeadLetter, SqsWorkQueue, type WorkQueue } from './queues.ts';
import { BandRepository } from './bands-repository.ts';
import { RiskRepository } from './risk-repository.ts';

export const logger = new Logger({ serviceName: 'margin-guard' });
export const metrics = new Metrics({ namespace: 'MarginGuard', serviceName: 'margin-guard' });

export interface HandlerDeps extends EvaluatorDeps {
  repo: RiskRepository;
  bands: BandStore & Pick<BandRepository, 'crossedAccounts' | 'watchedAccounts'>;
  workQueue: WorkQueue;
  env: Pick<RuntimeEnv, 'sweepSegments' | 'inlineFanoutLimit'>;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  concurrency: number;
}

/** A Lambda entry point that flushes the metrics its invocation recorded, whether it succeeds or fails. */
export function withMetrics<A extends unknown[], R>(
  fn: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await fn(...args);
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

/** Real clients from the Lambda environment; created once per container, on first use. */
let cached: HandlerDeps | undefined;
export function lambdaDeps(): HandlerDeps {
  if (cached) return cached;
  const env = readEnv();
  const dynamodb = new DynamoDBClient({});
  const repo = new RiskRepository(dynamodb, env.tables);
  const sqs = new SQSClient({});
  cached = {
    store: repo,
    repo,
    bands: new BandRepository(dynamodb, env.bandTables, env.bandShards),
    publisher: new EventBridgePublisher(new EventBridgeClient({}), env.busName),
    deadLetter: new SqsDeadLetter(sqs, env.deadLetterQueueUrl),
    workQueue: new SqsWorkQueue(sqs, env.workQueueUrl, env.coalescedQueueUrl),
    config: env.pipeline,
    telemetry: { count: (name, value = 1) => metrics.addMetric(name, MetricUnit.Count, value) },
    env,
    log: logger,
    concurrency: 16,
  };
  return cached;
}
