import fc from 'fast-check';
import { expect } from 'vitest';
import { InputError } from '../../shared/errors.ts';
import { scaled } from './scale.ts';

/** Strings that are not decimals, or decimals at the edges (huge, tiny, negative, signed zero). */
export const BAD_DECIMALS = [
  '',
  ' ',
  'abc',
  'NaN',
  'Infinity',
  '-Infinity',
  '1e5',
  '0x10',
  '1.2.3',
  '1,000.00',
  '--1',
  '.',
  '-0',
  '-1',
  '0',
  `9${'9'.repeat(80)}`,
  `-9${'9'.repeat(80)}`,
  `0.${'0'.repeat(60)}1`,
  '123456789012345678901234567890.123456789012345678901234567890',
];

/** JSON values that are the wrong kind for almost any field. */
const WRONG_TYPES: unknown[] = [null, true, false, 0, -1, 1e308, -1e308, 1.5, [], {}, [1], { a: 1 }, 'x'];

type Mutation =
  | { kind: 'delete'; path: number[] }
  | { kind: 'replace'; path: number[]; value: unknown }
  | { kind: 'extra-key'; path: number[]; key: string; value: unknown }
  | { kind: 'near-miss-key'; path: number[]; edit: number };

const pathArb = fc.array(fc.nat(), { minLength: 0, maxLength: 6 });
const valueArb = fc.oneof(
  fc.constantFrom(...BAD_DECIMALS),
  fc.constantFrom(...WRONG_TYPES),
  fc.jsonValue({ maxDepth: 2 }),
);

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), path: pathArb }),
  fc.record({ kind: fc.constant('replace' as const), path: pathArb, value: valueArb }),
  fc.record({
    kind: fc.constant('extra-key' as const),
    path: pathArb,
    key: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'toString')),
    value: valueArb,
  }),
  fc.record({ kind: fc.constant('near-miss-key' as const), path: pathArb, edit: fc.nat() }),
);

const isContainer = (v: unknown): v is Record<string, unknown> | unknown[] =>
  typeof v === 'object' && v !== null;

/** The container at a path of child choices (each index taken modulo the number of children). */
function walk(root: unknown, path: readonly number[]): { parent: unknown; key: string | number } | null {
  let parent: unknown = null;
  let key: string | number = '';
  let node = root;
  for (const step of path) {
    if (!isContainer(node)) break;
    const keys: (string | number)[] = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    if (keys.length === 0) break;
    parent = node;
    key = keys[step % keys.length]!;
    node = (node as Record<string | number, unknown>)[key];
  }
  return parent === null ? null : { parent, key };
}

function apply(root: unknown, m: Mutation): unknown {
  if (m.kind === 'replace' && m.path.length === 0) return m.value;
  const copy = structuredClone(root);
  const at = walk(copy, m.path);
  if (!at) return copy;
  const parent = at.parent as Record<string | number, unknown>;
  if (m.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(at.key as number, 1);
    else delete parent[at.key];
  } else if (m.kind === 'replace') parent[at.key] = m.value;
  else if (m.kind === 'extra-key') {
    const target = isContainer(parent[at.key]) && !Array.isArray(parent[at.key]) ? parent[at.key] : parent;
    if (!Array.isArray(target)) Object.defineProperty(target, m.key, { value: m.value, enumerable: true });
  } else if (!Array.isArray(parent) && typeof at.key === 'string' && at.key.length > 1) {
    // A misspelling of a real key: one character dropped.
    const i = m.edit % at.key.length;
    const misspelt = at.key.slice(0, i) + at.key.slice(i + 1);
    const value = parent[at.key];
    delete parent[at.key];
    parent[misspelt] = value;
  }
  return copy;
}

/** Valid inputs with one to three mutations: a deleted key, a wrong type, an extra or misspelt key… */
export function mutationsOf(valid: readonly unknown[]): fc.Arbitrary<unknown> {
  return fc
    .tuple(fc.constantFrom(...valid), fc.array(mutationArb, { minLength: 1, maxLength: 3 }))
    .map(([v, ms]) => ms.reduce(apply, v));
}

/** Arbitrary JSON and mutations of the valid inputs, and now and then a valid input as it is. */
export function badInputs(valid: readonly unknown[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: fc.jsonValue({ maxDepth: 4 }), weight: 4 },
    { arbitrary: mutationsOf(valid), weight: 4 },
    { arbitrary: fc.constantFrom(...valid), weight: 1 },
  );
}

/**
 * A valid input with one key it does not define added to one of its objects (not to those keyed by
 * data, such as a portfolio scenario's `shocks`), and the path of that key: strict parsing must name it.
 */
export function withUnknownKey(
  valid: readonly unknown[],
  dataKeyed: readonly string[] = ['shocks'],
): fc.Arbitrary<{ value: unknown; path: (string | number)[] }> {
  return fc
    .tuple(
      fc.constantFrom(...valid),
      fc.nat(),
      fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), fc.constantFrom('maintenaceRate', 'Cash', 'qty')),
    )
    .map(([v, pick, key]) => {
      const objects: (string | number)[][] = [];
      const visit = (node: unknown, path: (string | number)[]) => {
        if (!isContainer(node)) return;
        if (Array.isArray(node)) return node.forEach((c, i) => visit(c, [...path, i]));
        if (!dataKeyed.includes(String(path.at(-1)))) objects.push(path);
        for (const [k, c] of Object.entries(node)) visit(c, [...path, k]);
      };
      visit(v, []);
      const copy = structuredClone(v) as Record<string | number, unknown>;
      const at = objects[pick % objects.length]!;
      const target = at.reduce<Record<string | number, unknown>>(
        (o, k) => o[k] as Record<string | number, unknown>,
        copy,
      );
      const fresh = key in target ? `${key}_x` : key;
      Object.defineProperty(target, fresh, {
        value: '1',
        enumerable: true,
        writable: true,
        configurable: true,
      });
      return { value: copy, path: [...at, fresh] };
    });
}

/**
 * Runs per parser: 300 in `npm test` (enough to find a crash on a new path, small enough to stay fast),
 * 3,000 in `npm run test:full`; FUZZ_RUNS sets it outright.
 */
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? scaled(300, 3_000));

/** Every issue names a field (starting with `prefix`, or matching it) and says what is wrong. */
export function expectNamedIssues(
  issues: readonly { field: unknown; message: unknown }[],
  prefix: string | RegExp = '',
) {
  expect(issues.length).toBeGreaterThan(0);
  for (const issue of issues) {
    expect(typeof issue.field).toBe('string');
    expect((issue.field as string).length).toBeGreaterThan(0);
    if (typeof prefix === 'string') expect((issue.field as string).startsWith(prefix)).toBe(true);
    else expect(issue.field as string).toMatch(prefix);
    expect(typeof issue.message).toBe('string');
    expect((issue.message as string).length).toBeGreaterThan(0);
  }
}

/** The parse either succeeds or throws an InputError naming every bad field: never anything else. */
export function parsesOrNames<T>(parse: () => T, prefix: string | RegExp = ''): T | InputError {
  try {
    return parse();
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    expectNamedIssues(e.issues, prefix);
    return e;
  }
}
