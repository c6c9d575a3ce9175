import { z } from 'zod';
import { parseOrThrow } from '../../shared/errors.ts';
import { pipelineConfigSchema, type PipelineConfig } from '../../shared/pipeline/config.ts';
import { TABLES, tableEnvName, type TableKey } from './table-definitions.ts';

const tableNamesSchema = z.object(
  Object.fromEntries(
    Object.keys(TABLES).map((k) => [tableEnvName(k as TableKey), z.string().min(1)]),
  ) as Record<string, z.ZodString>,
);

export interface RuntimeEnv {
  tables: Record<TableKey, string>;
  busName: string;
  deadLetterQueueUrl: string;
  workQueueUrl: string;
  /** The coalescing FIFO queue for unbanded accounts (queues.ts); without it they go to the work queue. */
  coalescedQueueUrl?: string;
  sweepSegments: number;
  inlineFanoutLimit: number;
  /** Partitions per instrument in the guard-band table; fixed for the table's life (rows are keyed by it). */
  bandShards: number;
  /** The guard-band index's stripes (band-keys.ts stripeOf): BANDS_TABLES, else the one bands table. */
  bandTables: string[];
  /** How far back the watch sweep looks for prices that just turned stale (more than its period). */
  watchWindowMs: number;
  pipeline: PipelineConfig;
}

/** Reads the Lambda environment; a missing or bad variable is named in the error. */
export function readEnv(env: NodeJS.ProcessEnv = process.env): RuntimeEnv {
  const names = parseOrThrow(tableNamesSchema, env, ['env']);
  const rest = parseOrThrow(
    z.object({
      EVENT_BUS_NAME: z.string().min(1),
      DEAD_LETTER_QUEUE_URL: z.string().min(1),
      WORK_QUEUE_URL: z.string().min(1),
      COALESCED_QUEUE_URL: z.string().min(1).optional(),
      SWEEP_SEGMENTS: z.coerce.number().int().min(1).max(1000).default(8),
      INLINE_FANOUT_LIMIT: z.coerce.number().int().min(0).default(200),
      BAND_SHARDS: z.coerce.number().int().min(1).max(256).default(8),
      BANDS_TABLES: z
        .string()
        .regex(/^[^,\s]+(,[^,\s]+)*$/, 'a comma-separated list of table names')
        .optional(),
      WATCH_WINDOW_MS: z.coerce.number().int().min(60_000).default(180_000),
    }),
    env,
    ['env'],
  );
  const pipeline = parseOrThrow(
    pipelineConfigSchema,
    {
      staleAfterMs: env.STALE_AFTER_MS,
      heartbeatMs: env.HEARTBEAT_MS,
      closedHeartbeatMs: env.CLOSED_HEARTBEAT_MS,
      ratioDelta: env.RATIO_DELTA,
      historyTtlDays: env.HISTORY_TTL_DAYS,
    },
    ['env'],
  );
  return {
    tables: Object.fromEntries(
      Object.keys(TABLES).map((k) => [k, names[tableEnvName(k as TableKey)]]),
    ) as Record<TableKey, string>,
    busName: rest.EVENT_BUS_NAME,
    deadLetterQueueUrl: rest.DEAD_LETTER_QUEUE_URL,
    workQueueUrl: rest.WORK_QUEUE_URL,
    coalescedQueueUrl: rest.COALESCED_QUEUE_URL,
    sweepSegments: rest.SWEEP_SEGMENTS,
    inlineFanoutLimit: rest.INLINE_FANOUT_LIMIT,
    bandShards: rest.BAND_SHARDS,
    bandTables: rest.BANDS_TABLES?.split(',') ?? [names[tableEnvName('bands')]!],
    watchWindowMs: rest.WATCH_WINDOW_MS,
    pipeline,
  };
}

/** A required variable, or an error that names it (a missing one is a deployment bug, not bad input). */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}
