import type { Position } from '../schemas/position.ts';

/**
 * A position re-priced on a new tick is a new object with the same static fields (quantity, rates,
 * multiplier…). ParsedInputCache records the validated template it was copied from, so work that depends
 * only on the static fields (the fast path's compiled requirement tables) is done once per stored version.
 */
const templates = new WeakMap<object, object>();

export function recordTemplate(repriced: Position, template: Position): void {
  templates.set(repriced, template);
}

/** The object whose static fields this position shares, or the position itself. */
export function templateOf<T extends Position | readonly Position[]>(value: T): T {
  return (templates.get(value) as T | undefined) ?? value;
}

/** The same for a whole re-priced positions array: one lookup per evaluation instead of one per position. */
export function recordTemplates(repriced: readonly Position[], template: readonly Position[]): void {
  templates.set(repriced, template);
}
