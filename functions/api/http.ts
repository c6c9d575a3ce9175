import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { z } from 'zod';
import { IdentityError } from '../../shared/console/identity.ts';
import { InputError, parseOrThrow } from '../../shared/errors.ts';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new HttpError(404, 'not-found', what);

export function json(status: number, body: unknown): APIGatewayProxyResult {
  return { statusCode: status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** The largest request body the API reads (the biggest document, a notification policy, is a few KB). */
export const MAX_BODY_BYTES = 256 * 1024;

/** A body over MAX_BODY_BYTES: a 413 naming the limit; nothing is parsed. */
export function bodyTooLarge(bytes: number): HttpError {
  return new HttpError(413, 'body-too-large', `body: ${bytes} bytes; at most ${MAX_BODY_BYTES}`);
}

/**
 * A JSON body validated by a schema, with the JSON as sent (for routes that store it as sent); a bad
 * one is a 400 naming every field. An empty body is `{}`.
 */
export function readBody<S extends z.ZodType>(
  event: Pick<APIGatewayProxyEvent, 'body'>,
  schema: S,
): { raw: unknown; data: z.output<S> } {
  let raw: unknown;
  const bytes = event.body ? Buffer.byteLength(event.body, 'utf8') : 0;
  if (bytes > MAX_BODY_BYTES) throw bodyTooLarge(bytes);
  try {
    raw = event.body ? JSON.parse(event.body) : {};
  } catch {
    // The parser's own message quotes the input back: not echoed.
    throw new InputError([{ field: 'body', message: 'not valid JSON' }]);
  }
  return { raw, data: parseOrThrow(schema, raw, ['body']) };
}

/** A JSON body validated by a schema; a bad one is a 400 naming every field. */
export function parseBody<S extends z.ZodType>(
  event: Pick<APIGatewayProxyEvent, 'body'>,
  schema: S,
): z.output<S> {
  return readBody(event, schema).data;
}

/** Query-string parameters validated by a schema; a bad one is a 400 naming it (query.<name>). */
export function parseQuery<S extends z.ZodType>(
  event: Pick<APIGatewayProxyEvent, 'queryStringParameters'>,
  schema: S,
): z.output<S> {
  return parseOrThrow(schema, event.queryStringParameters ?? {}, ['query']);
}

export function errorResponse(e: unknown): APIGatewayProxyResult | null {
  if (e instanceof InputError) return json(400, { error: e.code, issues: e.issues });
  if (e instanceof HttpError) return json(e.status, { error: e.code, message: e.message });
  if (e instanceof IdentityError) return json(403, { error: e.code, message: e.message });
  return null;
}
