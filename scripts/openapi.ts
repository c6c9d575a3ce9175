/**
 * Writes docs/openapi.json from the API's route table and zod body schemas (`npm run docs:api`); a test
 * fails if the file is stale.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ROUTES } from '../functions/api/routes.ts';

export const OPENAPI_PATH = join(import.meta.dirname, '..', 'docs', 'openapi.json');

/**
 * What every signed-in route may also answer (the person behind it, body limits), and a manual order's
 * answers (one request per confirmed plan).
 */
function signedInResponses(path: string): Record<string, unknown> {
  const error = { content: { 'application/json': { schema: errorSchema } } };
  const orders = path.endsWith('/deleverage') || path.endsWith('/liquidate');
  return {
    '403': {
      description:
        'missing or invalid SigV4 (IAM) credentials, or (identity-unverified) a console sign-in whose Cognito user cannot be checked: nothing is changed',
    },
    '413': { description: 'body-too-large: a body over 256 KiB (nothing is parsed)' },
    ...(orders
      ? {
          '202': {
            description:
              'the confirmed plan (planId from GET /accounts/{id}/plan) was published (status published), or another request for it is publishing right now (status in-flight)',
          },
          '200': { description: 'this plan was confirmed already: the same result, nothing sent again' },
          '409': {
            description:
              'plan-stale: the account, its positions or prices moved since the preview (or the options differ); nothing was sent, `plan` is the fresh preview to confirm',
            ...error,
          },
        }
      : {}),
  };
}

const errorSchema = {
  type: 'object',
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    issues: {
      type: 'array',
      items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};

/** The one-click acknowledgement routes answer people with HTML; a refusal names its code (ACK_REFUSAL_CODES). */
const refusedHtml = (description: string) => ({
  description: `${description}; the page and its x-ack-refusal header name the code`,
  content: { 'text/html': { schema: { type: 'string' } } },
});
const ackResponses = {
  '200': {
    description:
      'GET: the confirmation page (a form that POSTs the token), or "already acknowledged"; POST: acknowledged (nothing is acknowledged by a GET)',
    content: { 'text/html': { schema: { type: 'string' } } },
  },
  '400': refusedHtml(
    'ack-link-invalid: not an acknowledgement link (or, POST, a JSON 400 naming the bad form field)',
  ),
  '403': refusedHtml('ack-link-tampered or ack-link-foreign-recipient'),
  '404': refusedHtml('ack-page-unknown'),
  '409': refusedHtml('ack-link-replayed: the link was used already'),
  '410': refusedHtml('ack-link-expired'),
};

export function renderOpenApi(): string {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    const parameters = [
      ...(r.path.includes('{id}')
        ? [
            {
              name: 'id',
              in: 'path',
              required: true,
              schema: { type: 'string', pattern: '^[A-Za-z0-9._:@-]{1,128}$' },
            },
          ]
        : []),
      ...(r.path.endsWith('/history')
        ? [
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            },
            {
              name: 'next',
              in: 'query',
              schema: { type: 'string' },
              description: 'token from the previous page',
            },
          ]
        : []),
    ];
    paths[r.path] ??= {};
    paths[r.path]![r.method.toLowerCase()] = {
      summary: r.summary,
      // A public route proves itself with the signed token it carries: no SigV4.
      security: r.public ? [] : [{ sigv4: [] }],
      ...(parameters.length ? { parameters } : {}),
      ...(r.body
        ? {
            requestBody: {
              required: true,
              content: {
                [r.bodyType ?? 'application/json']: {
                  schema: z.toJSONSchema(r.body, { io: 'input', unrepresentable: 'any' }),
                },
              },
            },
          }
        : {}),
      responses: r.public
        ? ackResponses
        : {
            [r.path.endsWith('/deleverage') || r.path.endsWith('/liquidate') ? '202' : '200']: {
              description: 'OK (JSON)',
            },
            ...(r.path.endsWith('/deleverage') || r.path.endsWith('/liquidate')
              ? { '200': { description: 'the same requestId was already accepted: its result' } }
              : {}),
            '400': {
              description: 'invalid input; every bad field is named',
              content: { 'application/json': { schema: errorSchema } },
            },
            '403': { description: 'missing or invalid SigV4 (IAM) credentials' },
            '404': {
              description: 'no such account or state',
              content: { 'application/json': { schema: errorSchema } },
            },
          },
    };
    if (!r.public)
      Object.assign(paths[r.path]![r.method.toLowerCase()]!, {
        responses: {
          ...(paths[r.path]![r.method.toLowerCase()] as { responses: object }).responses,
          ...signedInResponses(r.path),
        },
      });
  }
  const doc = {
    openapi: '3.1.0',
    info: {
      title: 'Margin Guard API',
      version: '1.0.0',
      description:
        'Risk status, margin, thresholds, history, manual deleverage/liquidation, holds and configuration. Decimals are strings.',
    },
    components: {
      securitySchemes: {
        sigv4: {
          type: 'apiKey',
          name: 'Authorization',
          in: 'header',
          description: 'AWS Signature Version 4 (IAM authorization)',
        },
      },
    },
    paths,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  writeFileSync(OPENAPI_PATH, renderOpenApi());
  console.log(`wrote ${OPENAPI_PATH}`);
}
