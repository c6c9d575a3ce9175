import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { formatPath, InputError, safeParseFields, type FieldIssue } from '../shared/errors.ts';
import { alertSettingsSchema, escalationConfigSchema } from '../shared/escalation/settings.ts';
import { parseEvaluationInput } from '../shared/margin/evaluate.ts';
import { notificationPolicySchema } from '../shared/notify/policy.ts';

/**
 * A local-mode scenario: accounts with their positions (no prices: those come from the price path), plus
 * optional escalation, alert and notification settings. Strict: an unknown key anywhere is refused by
 * name. The outer shape is checked here; each book and each settings document by the schemas the system
 * itself reads them with (see parseScenario).
 */
export const scenarioSchema = z.strictObject({
  description: z.string().optional(),
  accounts: z
    .array(
      z.strictObject({
        account: z.record(z.string(), z.unknown()),
        positions: z.array(z.record(z.string(), z.unknown())).default([]),
      }),
    )
    .min(1),
  settings: z
    .strictObject({
      escalation: z.unknown().optional(),
      alerts: z.unknown().optional(),
      notifications: z.unknown().optional(),
    })
    .optional(),
});
export type Scenario = z.output<typeof scenarioSchema>;

const SETTINGS = {
  escalation: escalationConfigSchema,
  alerts: alertSettingsSchema,
  notifications: notificationPolicySchema,
} as const;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks a scenario up front, in one pass, so a bad book is named before anything starts: the outer
 * shape, every account with its positions through the engine's own parse (params and model rules
 * included; positions get a placeholder price, theirs come from the price path) and every settings
 * document; every problem found is reported at once, each named by its path from `source`.
 */
export function parseScenario(raw: unknown, source: string): Scenario {
  const issues: FieldIssue[] = [];
  const outer = safeParseFields(scenarioSchema, raw, [source]);
  if (!outer.success) issues.push(...outer.error.issues);
  const scenario = isRecord(raw) ? raw : {};
  if (isRecord(scenario.settings)) {
    for (const [name, schema] of Object.entries(SETTINGS)) {
      const value = scenario.settings[name];
      if (value === undefined) continue;
      const parsed = safeParseFields(schema, value, [source, 'settings', name]);
      if (!parsed.success) issues.push(...parsed.error.issues);
    }
  }
  if (Array.isArray(scenario.accounts)) {
    scenario.accounts.forEach((entry: unknown, i) => {
      // Only well-formed entries: the outer shape already names a missing account or a non-object position.
      if (!isRecord(entry) || !isRecord(entry.account)) return;
      const positions = entry.positions ?? [];
      if (!Array.isArray(positions) || !positions.every(isRecord)) return;
      try {
        parseEvaluationInput({
          account: entry.account,
          positions: positions.map((p) => ({ price: '1', ...p })),
        });
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        const at = formatPath([source, 'accounts', i]);
        issues.push(...e.issues.map((issue) => ({ ...issue, field: `${at}.${issue.field}` })));
      }
    });
  }
  if (issues.length > 0 || !outer.success) throw new InputError(issues);
  return outer.data;
}

export function loadScenario(path: string): Scenario {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw InputError.single(path, `cannot read scenario: ${(e as Error).message}`);
  }
  return parseScenario(raw, path);
}
