import { SFNClient } from '@aws-sdk/client-sfn';
import type { EventBridgeEvent } from 'aws-lambda';
import { requireEnv } from '../lib/env.ts';
import { logger } from '../lib/runtime.ts';
import { startEscalation } from './start.ts';

const sfn = new SFNClient({});

export const handler = async (event: EventBridgeEvent<'RiskLevelChanged', unknown>) => {
  const result = await startEscalation(event.detail, sfn, requireEnv('STATE_MACHINE_ARN'));
  logger.info('escalation start', { ...result });
  return result;
};
