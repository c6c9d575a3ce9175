/**
 * The bulk-load path end to end on DynamoDB Local (docs/ingestion.md): a population of accounts
 * (bench/population.ts) written as the files a broker would export (accounts.jsonl, positions.csv,
 * prices.csv) → `margin-guard import` (every row validated by the engine's own parser, DynamoDB import
 * files written) → the items loaded with BatchWriteItem (functions/lib/bulk-load.ts) → the first sweep,
 * through the real work-queue handler, writing every account's state and guard bands.
 *
 * `npm run load:bulk` runs it at 100,000 accounts (BULK_ACCOUNTS, BULK_POSITIONS per account (3),
 * BULK_SWEEP=0 to skip the sweep) and prints each phase's time and rows per second; the integration
 * test runs it at a few hundred.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSRecord } from 'aws-lambda';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { importFiles } from '../cli/import-command.ts';
import { BandRepository } from '../functions/lib/bands-repository.ts';
import { bulkPut } from '../functions/lib/bulk-load.ts';
import { RiskRepository } from '../functions/lib/risk-repository.ts';
import type { HandlerDeps } from '../functions/lib/runtime.ts';
import { Tally } from '../functions/lib/telemetry.ts';
import { makeWorkQueueHandler } from '../functions/work-queue/handler.ts';
import { createTables, localClient } from '../local/tables.ts';
import { pipelineConfigSchema } from '../shared/pipeline/config.ts';
import { population } from './population.ts';

export interface BulkLoadResult {
  accounts: number;
  positions: number;
  prices: number;
  /** Seconds per phase, and rows (items) per second where rows are written. */
  importSeconds: number;
  loadSeconds: number;
  loadRowsPerSecond: number;
  sweepSeconds?: number;
  sweepAccountsPerSecond?: number;
  /** Accounts with a stored risk state after the sweep (every one, or the sweep missed some). */
  statesWritten?: number;
}

const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;

export async function runBulkLoad(options: {
  endpoint: string;
  tablePrefix: string;
  accounts: number;
  positionsPerAccount: number;
  sweep: boolean;
  segments?: number;
}): Promise<BulkLoadResult> {
  const people = population({
    accounts: options.accounts,
    positionsPerAccount: options.positionsPerAccount,
    instruments: 200,
  });
  const dir = mkdtempSync(join(tmpdir(), 'mg-bulk-'));
  try {
    // The broker's export: accounts as JSON Lines, positions and prices as CSV.
    const files = {
      accounts: join(dir, 'accounts.jsonl'),
      positions: join(dir, 'positions.csv'),
      prices: join(dir, 'prices.csv'),
    };
    writeFileSync(
      files.accounts,
      people.accounts.map(({ accountId, ...a }) => JSON.stringify({ id: accountId, ...a })).join('\n'),
    );
    const rows = [...people.positions.values()].flat();
    writeFileSync(
      files.positions,
      ['accountId,instrument,quantity,avgCost,leverage,assetClass']
        .concat(
          rows.map(
            (p) =>
              // The population's tiered accounts are 5x perpetuals: crypto, with a leverage setting.
              `${p.accountId},${p.instrument},${p.quantity},${p.avgCost},${p.leverage ?? ''},${p.leverage ? 'crypto' : ''}`,
          ),
        )
        .join('\n'),
    );
    const priceTime = new Date().toISOString();
    writeFileSync(
      files.prices,
      ['instrument,price,priceTime', ...[...people.prices].map(([i, p]) => `${i},${p},${priceTime}`)].join(
        '\n',
      ),
    );

    let t0 = process.hrtime.bigint();
    const { items } = importFiles({ ...files, out: join(dir, 'import') });
    const importSeconds = seconds(t0);

    const client = localClient(options.endpoint);
    const tables = await createTables(client, options.tablePrefix);
    const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    t0 = process.hrtime.bigint();
    await Promise.all([
      bulkPut(doc, tables.accounts, items.accounts),
      bulkPut(doc, tables.positions, items.positions),
      bulkPut(doc, tables.prices, items.prices),
    ]);
    const loadSeconds = seconds(t0);
    const written = items.accounts.length + items.positions.length + items.prices.length;
    const result: BulkLoadResult = {
      accounts: items.accounts.length,
      positions: items.positions.length,
      prices: items.prices.length,
      importSeconds,
      loadSeconds,
      loadRowsPerSecond: written / loadSeconds,
    };
    if (!options.sweep) return result;

    const repo = new RiskRepository(client, tables);
    const failures: unknown[] = [];
    const deps: HandlerDeps = {
      store: repo,
      repo,
      bands: new BandRepository(client, tables.bands, 8),
      publisher: { publish: async () => {} },
      deadLetter: { send: async (reason, record) => void failures.push({ reason, record }) },
      workQueue: { enqueue: async () => {} },
      config: pipelineConfigSchema.parse({ staleAfterMs: 36 * 3_600_000 }),
      telemetry: new Tally(),
      env: { sweepSegments: options.segments ?? 4, inlineFanoutLimit: 0 },
      log: { info: () => {}, warn: () => {}, error: (msg, ...extra) => void failures.push({ msg, extra }) },
      concurrency: 16,
    };
    const worker = makeWorkQueueHandler(() => deps);
    const totalSegments = options.segments ?? 4;
    t0 = process.hrtime.bigint();
    const outcomes = await Promise.all(
      Array.from({ length: totalSegments }, (_, segment) =>
        worker({
          Records: [
            {
              messageId: `segment-${segment}`,
              body: JSON.stringify({ kind: 'segment', segment, totalSegments, sweepId: 'first-sweep' }),
            } as SQSRecord,
          ],
        } as never),
      ),
    );
    result.sweepSeconds = seconds(t0);
    result.sweepAccountsPerSecond = result.accounts / result.sweepSeconds;
    if (outcomes.some((o) => o.batchItemFailures.length > 0) || failures.length > 0)
      throw new Error(`first sweep failed: ${JSON.stringify(failures.slice(0, 3))}`);
    let states = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(
        new ScanCommand({ TableName: tables.riskState, Select: 'COUNT', ExclusiveStartKey: start }),
      );
      states += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    result.statesWritten = states;
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { startDynamoDbLocal } = await import('../local/dynamodb-local.ts');
  const db = await startDynamoDbLocal();
  try {
    const accounts = Number.parseInt(process.env.BULK_ACCOUNTS ?? '100000', 10);
    const result = await runBulkLoad({
      endpoint: db.endpoint,
      tablePrefix: 'bulk',
      accounts,
      positionsPerAccount: Number.parseInt(process.env.BULK_POSITIONS ?? '3', 10),
      sweep: process.env.BULK_SWEEP !== '0',
      segments: 4,
    });
    const f = (n: number | undefined, d = 1) => (n === undefined ? '—' : n.toFixed(d));
    console.log(
      [
        `bulk load on DynamoDB Local: ${result.accounts} accounts, ${result.positions} positions, ${result.prices} prices`,
        `  import (validate every row, write DynamoDB import files): ${f(result.importSeconds)} s`,
        `  load (BatchWriteItem, 16 in flight): ${f(result.loadSeconds)} s, ${f(result.loadRowsPerSecond, 0)} rows/s`,
        `  first sweep (4 segments, real work-queue handler): ${f(result.sweepSeconds)} s, ${f(result.sweepAccountsPerSecond, 0)} accounts/s; states written: ${result.statesWritten ?? '—'}`,
      ].join('\n'),
    );
  } finally {
    await db.stop();
  }
}
