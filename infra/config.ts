import { z } from 'zod';
import { parseOrThrow } from '../shared/errors.ts';

/**
 * Deployment settings from CDK context (`cdk.json` or `-c key=value`), validated with defaults; a bad
 * value fails synth naming the context key.
 */
export const deployConfigSchema = z.object({
  stage: z
    .string()
    .regex(/^[a-z][a-z0-9-]{1,20}$/, 'lowercase letters, digits and -')
    .default('dev'),
  sweepRateMinutes: z.coerce.number().int().min(1).max(60).default(1),
  sweepSegments: z.coerce.number().int().min(1).max(100).default(8),
  staleAfterSeconds: z.coerce.number().int().min(10).default(300),
  heartbeatMinutes: z.coerce.number().int().min(1).default(15),
  ratioDelta: z
    .string()
    .regex(/^\d+(\.\d+)?$/)
    .default('0.05'),
  historyTtlDays: z.coerce.number().int().min(1).max(3650).default(90),
  logRetentionDays: z.coerce.number().int().min(1).default(30),
  inlineFanoutLimit: z.coerce.number().int().min(0).default(200),
  /** Where alarm notifications go (optional). */
  alarmEmail: z.email().optional(),
});

export type DeployConfig = z.output<typeof deployConfigSchema> & { isProd: boolean };

export function readDeployConfig(context: Record<string, unknown>): DeployConfig {
  const config = parseOrThrow(deployConfigSchema, context, ['context']);
  return { ...config, isProd: config.stage === 'prod' };
}

export const CONTEXT_KEYS = Object.keys(deployConfigSchema.shape);
