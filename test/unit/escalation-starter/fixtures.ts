import { SFNServiceException } from '@aws-sdk/client-sfn';
import type { SQSRecord } from 'aws-lambda';

/** A valid RiskLevelChanged detail. */
export const riskDetail = (
  accountId = 'A1',
  to = 'CRITICAL',
  incidentId: string | null = `${accountId}:risk:1`,
) => ({
  schemaVersion: '1',
  eventId: `e-${accountId}`,
  accountId,
  occurredAt: '2026-01-01T00:00:00.000Z',
  from: 'SAFE',
  to,
  marginRatio: '1.1',
  equity: '1',
  maintenanceRequirement: '1',
  excessLiquidity: '0',
  callMove: null,
  zeroEquityMove: null,
  incidentId,
  staleInstruments: [],
});

export const throttled = () =>
  new SFNServiceException({
    name: 'ThrottlingException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: 'Rate exceeded',
  });

/** A start-queue message: the EventBridge event, as the StartOnRisk rule puts it on the queue. */
export const startRecord = (messageId: string, detail: unknown, detailType = 'RiskLevelChanged'): SQSRecord =>
  rawRecord(
    messageId,
    JSON.stringify({
      version: '0',
      id: `event-${messageId}`,
      'detail-type': detailType,
      source: 'margin-guard',
      account: '123456789012',
      time: '2026-01-01T00:00:00Z',
      region: 'eu-west-1',
      resources: [],
      detail,
    }),
  );

export const rawRecord = (messageId: string, body: string): SQSRecord =>
  ({
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {},
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:start',
    awsRegion: 'eu-west-1',
  }) as unknown as SQSRecord;
