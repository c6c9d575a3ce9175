/**
 * Writes docs/events/<DetailType>.v<version>.json from the zod event schemas, and the console's
 * channel-only payloads (docs/events/console/), so consumers get JSON Schema that cannot drift from the
 * code (a test fails if the files are stale). `npm run docs:events`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { CHANNELS, actionRecordedSchema, marginUpdatedSchema } from '../shared/console/channels.ts';
import { BROKER_EVENT_SCHEMAS, BROKER_EVENT_SOURCE } from '../shared/events/broker-feedback.ts';
import { EVENT_SCHEMAS, EVENT_SOURCE, SCHEMA_VERSION } from '../shared/events/schemas.ts';
import {
  INGEST_EVENT_SCHEMAS,
  INGEST_EVENT_SOURCE,
  INGEST_SCHEMA_VERSION,
  priceTicksSchema,
} from '../shared/ingest/contract.ts';

export const EVENTS_DIR = join(import.meta.dirname, '..', 'docs', 'events');

export function renderEventSchemas(): Record<string, string> {
  return Object.fromEntries([
    ...Object.entries(EVENT_SCHEMAS).map(([detailType, schema]) => {
      const json = {
        ...z.toJSONSchema(schema, { target: 'draft-2020-12' }),
        $id: `https://margin-guard.dev/events/${detailType}.v${SCHEMA_VERSION}.json`,
        'x-eventbridge': { source: EVENT_SOURCE, detailType },
      };
      return [`${detailType}.v${SCHEMA_VERSION}.json`, `${JSON.stringify(json, null, 2)}\n`];
    }),
    ...Object.entries({ MarginUpdated: marginUpdatedSchema, ActionRecorded: actionRecordedSchema }).map(
      ([type, schema]) => {
        const json = {
          ...z.toJSONSchema(schema, { target: 'draft-2020-12' }),
          $id: `https://margin-guard.dev/events/console/${type}.v${SCHEMA_VERSION}.json`,
          'x-console-channels': type === 'MarginUpdated' ? ['margin-updates'] : ['actions', 'alerts'],
          'x-console-envelope': { channel: CHANNELS, type, accountId: 'string', detail: 'this schema' },
        };
        return [`console/${type}.v${SCHEMA_VERSION}.json`, `${JSON.stringify(json, null, 2)}\n`];
      },
    ),
    // What brokers publish back: the same bus, their own source.
    ...Object.entries(BROKER_EVENT_SCHEMAS).map(([detailType, schema]) => {
      const json = {
        ...z.toJSONSchema(schema, { target: 'draft-2020-12' }),
        $id: `https://margin-guard.dev/events/broker/${detailType}.v${SCHEMA_VERSION}.json`,
        'x-eventbridge': { source: BROKER_EVENT_SOURCE, detailType },
      };
      return [`broker/${detailType}.v${SCHEMA_VERSION}.json`, `${JSON.stringify(json, null, 2)}\n`];
    }),
    // What brokers feed in (docs/ingestion.md): the same bus, the ingestion source.
    ...Object.entries({ ...INGEST_EVENT_SCHEMAS, PriceTicks: priceTicksSchema }).map(
      ([detailType, schema]) => {
        const json = {
          ...z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' }),
          $id: `https://margin-guard.dev/events/ingest/${detailType}.v${INGEST_SCHEMA_VERSION}.json`,
          'x-eventbridge': { source: INGEST_EVENT_SOURCE, detailType },
        };
        return [`ingest/${detailType}.v${INGEST_SCHEMA_VERSION}.json`, `${JSON.stringify(json, null, 2)}\n`];
      },
    ),
  ]);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  mkdirSync(join(EVENTS_DIR, 'console'), { recursive: true });
  mkdirSync(join(EVENTS_DIR, 'broker'), { recursive: true });
  mkdirSync(join(EVENTS_DIR, 'ingest'), { recursive: true });
  for (const [file, text] of Object.entries(renderEventSchemas()))
    writeFileSync(join(EVENTS_DIR, file), text);
  console.log(`wrote ${Object.keys(renderEventSchemas()).length} schemas to ${EVENTS_DIR}`);
}
