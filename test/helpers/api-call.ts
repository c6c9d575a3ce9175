import type { APIGatewayProxyEvent } from 'aws-lambda';
import { route } from '../../functions/api/router.ts';
import type { ApiDeps } from '../../functions/api/routes.ts';

export interface ApiCall {
  id?: string;
  /** Path parameters besides `id` (e.g. `instrument`). */
  path?: Record<string, string>;
  body?: unknown;
  query?: Record<string, string>;
  userArn?: string;
}

/** Calls the REST API's router with an API Gateway proxy event, as the deployed integration does. */
export function callApi(deps: ApiDeps, method: string, resource: string, options: ApiCall = {}) {
  const event = {
    httpMethod: method,
    resource,
    pathParameters:
      options.id || options.path ? { ...(options.id ? { id: options.id } : {}), ...options.path } : null,
    queryStringParameters: options.query ?? null,
    body:
      options.body === undefined
        ? null
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body),
    requestContext: {
      identity: { userArn: options.userArn ?? 'arn:aws:iam::123456789012:user/ops' },
    },
  } as unknown as APIGatewayProxyEvent;
  return route(event, deps).then((r) => ({
    status: r.statusCode,
    // HTML for people (the one-click ack page), JSON otherwise.
    body: String(r.headers?.['content-type'] ?? '').startsWith('text/html') ? r.body : JSON.parse(r.body),
  }));
}
