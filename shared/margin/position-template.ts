import type { Position } from '../schemas/position.ts';

/**
 * A positions array re-priced on a new tick is new, with positions whose static fields (quantity, rates,
 * multiplier…) are those of the stored version. ParsedInputCache records the validated array it copied,
 * so work that depends only on the static fields (the fast path's compiled requirement tables) is done
 * once per stored version.
 */
const templates = new WeakMap<readonly Position[], readonly Position[]>();

export function recordTemplates(repriced: readonly Position[], template: readonly Position[]): void {
  templates.set(repriced, template);
}

/** The validated array these positions were re-priced from, or the array itself. */
export function templateOf(positions: readonly Position[]): readonly Position[] {
  return templates.get(positions) ?? positions;
}
