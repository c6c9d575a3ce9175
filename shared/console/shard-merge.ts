/**
 * One page of a k-way merge over sorted shards. Each shard was read from its cursor (a position after the
 * last row a previous page took from it); the page takes the `need` smallest rows, and each shard's cursor
 * moves past exactly the rows taken from it, so the next page neither skips nor repeats a row.
 */
export type ShardCursor<K> = { state: 'start' } | { state: 'after'; key: K } | { state: 'done' };

export interface ShardRead<R, K> {
  cursor: ShardCursor<K>;
  /** Rows after the cursor, in order (at most `need` of them). */
  rows: readonly R[];
  /** Whether the shard has rows beyond these. */
  more: boolean;
}

export function mergeShards<R, K>(
  reads: readonly ShardRead<R, K>[],
  need: number,
  compare: (a: R, b: R) => number,
  keyOf: (row: R) => K,
): { rows: R[]; cursors: ShardCursor<K>[] } {
  const taken = reads.map(() => 0);
  const rows: R[] = [];
  while (rows.length < need) {
    let best = -1;
    let blocked = false;
    for (let s = 0; s < reads.length; s++) {
      const candidate = reads[s]!.rows[taken[s]!];
      if (candidate === undefined) {
        // A shard cut short (DynamoDB's 1 MB page) may hold smaller rows than the others still offer.
        blocked ||= reads[s]!.more;
        continue;
      }
      if (best < 0 || compare(candidate, reads[best]!.rows[taken[best]!]!) < 0) best = s;
    }
    if (best < 0 || blocked) break;
    rows.push(reads[best]!.rows[taken[best]!]!);
    taken[best]! += 1;
  }
  const cursors = reads.map((read, s): ShardCursor<K> => {
    const n = taken[s]!;
    if (read.cursor.state === 'done') return read.cursor;
    if (n === read.rows.length && !read.more) return { state: 'done' };
    return n === 0 ? read.cursor : { state: 'after', key: keyOf(read.rows[n - 1]!) };
  });
  return { rows, cursors };
}

export const allDone = (cursors: readonly ShardCursor<unknown>[]) => cursors.every((c) => c.state === 'done');
