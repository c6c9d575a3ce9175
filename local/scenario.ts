import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { InputError, parseOrThrow } from '../shared/errors.ts';
import { notificationPolicySchema } from '../shared/notify/policy.ts';
import { accountSchema } from '../shared/schemas/account.ts';
import { positionSchema } from '../shared/schemas/position.ts';

/**
 * A local-mode scenario: accounts with their positions (no prices: those come from the price path), plus
 * optional escalation and alert settings. Checked up front with the engine's own schemas, so a bad book
 * is named before anything starts.
 */
export const scenarioSchema = z.object({
  description: z.string().optional(),
  accounts: z
    .array(
      z.object({
        account: z.record(z.string(), z.unknown()),
        positions: z.array(z.record(z.string(), z.unknown())).default([]),
      }),
    )
    .min(1),
  settings: z
    .object({
      escalation: z.unknown().optional(),
      alerts: z.unknown().optional(),
      notifications: z.unknown().optional(),
    })
    .optional(),
});
export type Scenario = z.output<typeof scenarioSchema>;

export function loadScenario(path: string): Scenario {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw InputError.single(path, `cannot read scenario: ${(e as Error).message}`);
  }
  const scenario = parseOrThrow(scenarioSchema, raw, [path]);
  if (scenario.settings?.notifications !== undefined)
    parseOrThrow(notificationPolicySchema, scenario.settings.notifications, [
      path,
      'settings',
      'notifications',
    ]);
  scenario.accounts.forEach((a, i) => {
    parseOrThrow(accountSchema, a.account, [path, 'accounts', i, 'account']);
    // Prices come later; check everything else about each position now.
    a.positions.forEach((p, j) =>
      parseOrThrow(positionSchema, { price: '1', ...p }, [path, 'accounts', i, 'positions', j]),
    );
  });
  return scenario;
}
