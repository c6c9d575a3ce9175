import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENTS_DIR, renderEventSchemas } from '../../../scripts/event-schemas.ts';

describe('docs/events', () => {
  it('holds the JSON Schema of every event, current with the code (npm run docs:events)', () => {
    for (const [file, text] of Object.entries(renderEventSchemas())) {
      expect(readFileSync(join(EVENTS_DIR, file), 'utf8'), `${file} is stale: run npm run docs:events`).toBe(
        text,
      );
    }
  });
});
