import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { errorResponse, json } from './http.ts';
import { ROUTES, type ApiDeps } from './routes.ts';

/** Routes an API Gateway proxy event by its resource template (e.g. /accounts/{id}/risk) and method. */
export async function route(
  event: APIGatewayProxyEvent,
  d: ApiDeps,
  log?: (msg: string, extra: object) => void,
): Promise<APIGatewayProxyResult> {
  const matches = ROUTES.filter((r) => r.path === event.resource);
  if (matches.length === 0) return json(404, { error: 'not-found', message: `no route ${event.resource}` });
  const r = matches.find((m) => m.method === event.httpMethod);
  if (!r)
    return json(405, {
      error: 'method-not-allowed',
      message: `${event.httpMethod} ${event.resource}; allowed: ${matches.map((m) => m.method).join(', ')}`,
    });
  try {
    return await r.handle(event, d);
  } catch (e) {
    const known = errorResponse(e);
    if (known) return known;
    log?.('unexpected API failure', {
      resource: event.resource,
      method: event.httpMethod,
      error: (e as Error).message,
    });
    return json(500, { error: 'internal', message: 'unexpected failure; it was logged' });
  }
}
