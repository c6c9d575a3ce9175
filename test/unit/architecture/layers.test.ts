/**
 * The import rules of .dependency-cruiser.cjs (run on the tree by `npm test` via scripts/checks.ts) hold
 * their line: on a throwaway tree, an upward import and a cycle each fail them, and a downward import passes.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cruise, type IConfiguration } from 'dependency-cruiser';
import { afterEach, describe, expect, it } from 'vitest';

const config = createRequire(import.meta.url)('../../../.dependency-cruiser.cjs') as IConfiguration;
const roots: string[] = [];

/** Violations of the project's rules in a tree of the given files (path → source). */
async function violations(files: Record<string, string>): Promise<string[]> {
  const root = mkdtempSync(join(tmpdir(), 'mg-layers-'));
  roots.push(root);
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), source);
  }
  const layers = [...new Set(Object.keys(files).map((path) => path.split('/')[0]!))];
  const result = await cruise(layers, {
    ...config.options,
    tsConfig: undefined,
    baseDir: root,
    validate: true,
    ruleSet: { forbidden: config.forbidden },
  });
  if (typeof result.output === 'string') throw new Error(result.output);
  // Every file was read: a rule that found nothing because nothing was cruised proves nothing.
  expect(result.output.summary.totalCruised).toBe(Object.keys(files).length);
  return result.output.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
}

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('import layers', () => {
  it('lets a layer import the one below it', async () => {
    expect(
      await violations({
        'shared/money.ts': 'export const ZERO = 0;\n',
        'functions/handler.ts': "import { ZERO } from '../shared/money.ts';\nexport const x = ZERO;\n",
        'infra/stack.ts': "import { x } from '../functions/handler.ts';\nexport const y = x;\n",
      }),
    ).toEqual([]);
  });

  it('fails an upward import, naming the layer rule', async () => {
    expect(
      await violations({
        'functions/tables.ts': 'export const TABLES = {};\n',
        'shared/model.ts': "import { TABLES } from '../functions/tables.ts';\nexport const t = TABLES;\n",
      }),
    ).toEqual(['shared: shared/model.ts → functions/tables.ts']);
    expect(
      await violations({
        'infra/table-definitions.ts': 'export const TABLES = {};\n',
        'functions/env.ts':
          "import type { TABLES } from '../infra/table-definitions.ts';\nexport type T = typeof TABLES;\n",
      }),
    ).toEqual(['functions: functions/env.ts → infra/table-definitions.ts']);
  });

  it('fails a cycle, even one of type imports only', async () => {
    expect(
      await violations({
        'shared/model.ts':
          "import type { Form } from './separable.ts';\nexport interface Model { form: Form }\n",
        'shared/separable.ts':
          "import type { Model } from './model.ts';\nexport interface Form { model?: Model }\n",
      }),
    ).toEqual(['no-circular: shared/model.ts → shared/separable.ts']);
  });
});
