import type { z } from 'zod';

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  innerType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  valueType?: z.ZodType;
  items?: z.ZodType[];
  in?: z.ZodType;
  out?: z.ZodType;
  left?: z.ZodType;
  right?: z.ZodType;
  getter?: () => z.ZodType;
}

const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

/**
 * The paths of every object inside a schema that would drop an unknown key instead of refusing it (an
 * object that is neither strict nor a record): what a misspelt field silently disappears through.
 */
export function looseObjectsIn(schema: z.ZodType, path = '(root)', seen = new Set<z.ZodType>()): string[] {
  if (seen.has(schema)) return [];
  seen.add(schema);
  const def = defOf(schema);
  const inner = (s: z.ZodType | undefined, p = path) => (s ? looseObjectsIn(s, p, seen) : []);
  switch (def.type) {
    case 'object': {
      const own = def.catchall && defOf(def.catchall).type === 'never' ? [] : [path];
      return [...own, ...Object.entries(def.shape ?? {}).flatMap(([k, v]) => inner(v, `${path}.${k}`))];
    }
    case 'array':
      return inner(def.element, `${path}[]`);
    case 'record':
      return inner(def.valueType, `${path}{}`);
    case 'tuple':
      return (def.items ?? []).flatMap((s, i) => inner(s, `${path}[${i}]`));
    case 'union':
      return (def.options ?? []).flatMap((s) => inner(s));
    case 'intersection':
      return [...inner(def.left), ...inner(def.right)];
    case 'pipe':
      return [...inner(def.in), ...inner(def.out)];
    case 'lazy':
      return inner(def.getter?.());
    default:
      return inner(def.innerType); // optional, nullable, default, prefault, catch, readonly…
  }
}
