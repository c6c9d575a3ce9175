import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { z } from 'zod';
import { InputError, fromZodError, parseOrThrow } from '../../shared/errors.ts';

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

/** A JSON body validated by a schema; a bad one is a 400 naming every field. */
export function parseBody<S extends z.ZodType>(
  event: Pick<APIGatewayProxyEvent, 'body'>,
  schema: S,
): z.output<S> {
  let raw: unknown;
  try {
    raw = event.body ? JSON.parse(event.body) : {};
  } catch {
    throw new InputError([{ field: 'body', message: 'not valid JSON' }]);
  }
  const result = schema.safeParse(raw);
  if (!result.success) throw fromZodError(result.error, ['body']);
  return result.data;
}

/** Query-string parameters validated by a schema; a bad one is a 400 naming it (query.<name>). */
export function parseQuery<S extends z.ZodType>(
  event: Pick<APIGatewayProxyEvent, 'queryStringParameters'>,
  schema: S,
): z.output<S> {
  return parseOrThrow(schema, event.queryStringParameters ?? {}, ['query']);
}

export function errorResponse(e: unknown): APIGatewayProxyResult | null {
  if (e instanceof InputError) return json(400, { error: 'invalid-input', issues: e.issues });
  if (e instanceof HttpError) return json(e.status, { error: e.code, message: e.message });
  return null;
}
