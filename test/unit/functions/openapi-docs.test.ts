import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPENAPI_PATH, renderOpenApi } from '../../../scripts/openapi.ts';

describe('docs/openapi.json', () => {
  it('documents every route, current with the code (npm run docs:api)', () => {
    expect(readFileSync(OPENAPI_PATH, 'utf8'), 'stale: run npm run docs:api').toBe(renderOpenApi());
    const doc = JSON.parse(renderOpenApi());
    expect(Object.keys(doc.paths)).toContain('/accounts/{id}/deleverage');
    expect(
      doc.paths['/accounts/{id}/thresholds'].post.requestBody.content['application/json'].schema.properties
        .thresholds,
    ).toBeDefined();
  });
});
