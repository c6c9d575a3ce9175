import type { z } from 'zod';

export interface FieldIssue {
  /** Where the problem is, e.g. `positions[0].price`. */
  field: string;
  message: string;
}

/** Bad input: always names the field, so a user (or a dead-letter record) can say what to fix. */
export class InputError extends Error {
  readonly issues: FieldIssue[];

  constructor(issues: FieldIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('\n'));
    this.name = 'InputError';
    this.issues = issues;
  }

  static single(field: string, message: string): InputError {
    return new InputError([{ field, message }]);
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

export function fromZodError(error: z.ZodError, prefix: readonly PropertyKey[] = []): InputError {
  return new InputError(
    error.issues.map((issue) => ({ field: formatPath([...prefix, ...issue.path]), message: issue.message })),
  );
}

/** Parses with a zod schema, turning failures into an InputError whose fields carry `prefix`. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  input: unknown,
  prefix: readonly PropertyKey[] = [],
): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw fromZodError(result.error, prefix);
  return result.data;
}
