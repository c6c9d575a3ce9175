import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allDone, mergeShards, type ShardCursor } from '../../shared/console/shard-merge.ts';

/** A sorted shard read the way DynamoDB serves it: from a cursor, at most `need` rows, sometimes cut short. */
function read(shard: readonly number[], cursor: ShardCursor<number>, need: number, cut: number) {
  if (cursor.state === 'done') return { cursor, rows: [], more: false };
  const from = cursor.state === 'start' ? 0 : cursor.key + 1;
  const rows = shard.slice(from, from + Math.max(1, Math.min(need, cut)));
  return { cursor, rows: rows.map((_, i) => from + i), more: from + rows.length < shard.length };
}

describe('mergeShards', () => {
  it('pages through sorted shards: every row once, in order, whatever the page size and short reads', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: -50, max: 50 }), { maxLength: 12 }), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.integer({ min: 1, max: 7 }),
        fc.infiniteStream(fc.integer({ min: 1, max: 5 })),
        (raw, pageSize, cuts) => {
          const shards = raw.map((s) => [...s].sort((a, b) => a - b));
          let cursors: ShardCursor<number>[] = shards.map(() => ({ state: 'start' }));
          const out: number[] = [];
          const cut = cuts[Symbol.iterator]();
          for (let guard = 0; !allDone(cursors); guard++) {
            expect(guard).toBeLessThan(500);
            const reads = shards.map((s, i) => read(s, cursors[i]!, pageSize, cut.next().value as number));
            // Rows carry their shard and index; compare by value.
            const tagged = reads.map((r, i) => ({
              ...r,
              rows: r.rows.map((k) => ({ i, k, v: shards[i]![k]! })),
            }));
            const page = mergeShards(
              tagged.map((r) => ({ ...r, cursor: r.cursor })),
              pageSize,
              (a, b) => a.v - b.v,
              (row) => row.k,
            );
            expect(page.rows.length).toBeLessThanOrEqual(pageSize);
            out.push(...page.rows.map((r) => r.v));
            cursors = page.cursors;
          }
          expect(out).toEqual(shards.flat().sort((a, b) => a - b));
        },
      ),
      { numRuns: 300 },
    );
  });
});
