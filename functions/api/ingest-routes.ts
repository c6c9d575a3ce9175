import type { APIGatewayProxyEvent } from 'aws-lambda';
import { z } from 'zod';
import { InputError } from '../../shared/errors.ts';
import {
  INGEST_SCHEMA_VERSION,
  parseIngestUpdate,
  priceTicksSchema,
  type IngestUpdate,
} from '../../shared/ingest/contract.ts';
import { HttpError, json, parseBody, parseQuery } from './http.ts';
import type { ApiDeps, Route } from './route-types.ts';

/**
 * The ingestion contract over HTTP (docs/ingestion.md): the same updates as the bus events, each applied
 * only if newer (functions/lib/ingest-repository.ts). 200 `applied`; 409 `stale` (a replay or a late
 * update: not applied, not to be retried) or `unknown-account` (create the account first, then retry);
 * 400 naming every bad field. Operators' IAM role may call these; the broker's integration role is the
 * intended caller.
 */

const sequence = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const open = z.record(z.string(), z.unknown());
const accountBody = z.strictObject({ sequence, account: open });
const cashBody = z.strictObject({ sequence, cash: z.string() });
const positionBody = z.strictObject({ sequence, position: open });
const bookBody = z.strictObject({ sequence, positions: z.array(open) });
const deleteQuery = z.strictObject({
  sequence: z.coerce.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
});

const pathPart = (e: APIGatewayProxyEvent, name: 'id' | 'instrument') => {
  const value = e.pathParameters?.[name] ?? '';
  const ok = name === 'id' ? /^[A-Za-z0-9._:@-]{1,128}$/.test(value) : value.length > 0 && value.length <= 64;
  if (!ok)
    throw new HttpError(
      400,
      'invalid-input',
      `path.${name}: not a valid ${name === 'id' ? 'account id' : 'instrument'}`,
    );
  return value;
};

/** Validates the update as the bus handler does, naming fields under `body.`. */
function update(raw: Record<string, unknown>): IngestUpdate {
  try {
    return parseIngestUpdate({ schemaVersion: INGEST_SCHEMA_VERSION, ...raw });
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    throw new InputError(
      e.issues.map((i) => ({
        field: ['accountId', 'instrument'].includes(i.field)
          ? `path.${i.field === 'accountId' ? 'id' : i.field}`
          : `body.${i.field}`,
        message: i.message,
      })),
    );
  }
}

async function apply(d: ApiDeps, u: IngestUpdate) {
  if (!d.ingest) throw new HttpError(501, 'not-configured', 'ingestion is not configured in this deployment');
  const outcome = await d.ingest.apply(u);
  if (outcome.status === 'applied') return json(200, { status: 'applied', sequence: u.sequence });
  return json(409, { error: outcome.status, message: outcome.message });
}

export const INGEST_ROUTES: Route[] = [
  {
    method: 'PUT',
    path: '/accounts/{id}',
    summary: 'Create or replace an account (ingestion: applied only if its sequence is newer)',
    body: accountBody,
    handle: async (e, d) => {
      const b = parseBody(e, accountBody);
      return apply(d, update({ type: 'AccountUpserted', accountId: pathPart(e, 'id'), ...b }));
    },
  },
  {
    method: 'PUT',
    path: '/accounts/{id}/cash',
    summary: 'Set an account’s cash balance (ingestion: applied only if newer)',
    body: cashBody,
    handle: async (e, d) => {
      const b = parseBody(e, cashBody);
      return apply(d, update({ type: 'CashChanged', accountId: pathPart(e, 'id'), ...b }));
    },
  },
  {
    method: 'PUT',
    path: '/accounts/{id}/positions',
    summary: 'Replace an account’s whole book atomically (ingestion: applied only if newer)',
    body: bookBody,
    handle: async (e, d) => {
      const b = parseBody(e, bookBody);
      return apply(d, update({ type: 'PositionsReplaced', accountId: pathPart(e, 'id'), ...b }));
    },
  },
  {
    method: 'PUT',
    path: '/accounts/{id}/positions/{instrument}',
    summary: 'Create or replace one position (ingestion: applied only if newer)',
    body: positionBody,
    handle: async (e, d) => {
      const b = parseBody(e, positionBody);
      const [accountId, instrument] = [pathPart(e, 'id'), pathPart(e, 'instrument')];
      return apply(d, update({ type: 'PositionChanged', accountId, instrument, ...b }));
    },
  },
  {
    method: 'DELETE',
    path: '/accounts/{id}/positions/{instrument}',
    summary: 'Close one position (ingestion: ?sequence=N, applied only if newer)',
    handle: async (e, d) => {
      const { sequence: s } = parseQuery(e, deleteQuery);
      const [accountId, instrument] = [pathPart(e, 'id'), pathPart(e, 'instrument')];
      return apply(d, update({ type: 'PositionChanged', accountId, instrument, sequence: s, closed: true }));
    },
  },
  {
    method: 'POST',
    path: '/prices',
    summary: 'Price ticks (each stored only if newer by its price time)',
    body: priceTicksSchema.omit({ schemaVersion: true, type: true }),
    handle: async (e, d) => {
      const { ticks } = parseBody(e, priceTicksSchema.omit({ schemaVersion: true, type: true }));
      let stored = 0;
      for (const tick of ticks) if (await d.repo.putPriceIfNewer(tick)) stored++;
      return json(200, { stored, stale: ticks.length - stored });
    },
  },
];
