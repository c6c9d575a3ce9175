import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ROUTES } from '../../functions/api/routes.ts';
import { scenarioSchema } from '../../local/scenario.ts';
import { subscribeSchema } from '../../shared/console/channels.ts';
import { alertSettingsSchema, escalationConfigSchema } from '../../shared/escalation/settings.ts';
import { BROKER_EVENT_SCHEMAS } from '../../shared/events/broker-feedback.ts';
import { MODELS } from '../../shared/margin/registry.ts';
import { notificationPolicySchema } from '../../shared/notify/policy.ts';
import { priceItemSchema } from '../../shared/pipeline/records.ts';
import { escalationPolicySchema } from '../../shared/replay/policy.ts';
import { accountSchema } from '../../shared/schemas/account.ts';
import { positionSchema } from '../../shared/schemas/position.ts';
import { looseObjectsIn } from '../helpers/loose-objects.ts';

/** Every schema that reads input from outside: CLI files, scenarios, REST bodies, broker events, stored items. */
const EDGES: Record<string, z.ZodType> = {
  account: accountSchema,
  position: positionSchema,
  ...Object.fromEntries(Object.values(MODELS).map((m) => [`${m.name} params`, m.paramsSchema as z.ZodType])),
  'replay policy': escalationPolicySchema,
  scenario: scenarioSchema,
  'escalation settings': escalationConfigSchema,
  'alert settings': alertSettingsSchema,
  'notification policy': notificationPolicySchema,
  'websocket subscribe': subscribeSchema,
  'stored price': priceItemSchema,
  ...Object.fromEntries(ROUTES.flatMap((r) => (r.body ? [[`${r.method} ${r.path} body`, r.body]] : []))),
  ...Object.fromEntries(Object.entries(BROKER_EVENT_SCHEMAS).map(([t, s]) => [`broker ${t}`, s])),
};

describe('strict schemas at every edge', () => {
  it.each(Object.entries(EDGES))('%s: no object drops an unknown key', (_name, schema) => {
    expect(looseObjectsIn(schema)).toEqual([]);
  });
});
