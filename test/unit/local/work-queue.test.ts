import { describe, expect, it } from 'vitest';
import { accountMessages, coalescedMessages } from '../../../functions/lib/queues.ts';
import { FIFO_DEDUP_WINDOW_MS, LocalWorkQueue } from '../../../local/work-queue.ts';

describe('local mode’s work queue', () => {
  it('drops a coalesced message whose account was enqueued in the same second, as the FIFO queue does', async () => {
    let now = Date.parse('2026-03-02T15:00:00.100Z');
    const queue = new LocalWorkQueue(() => now);
    await queue.enqueue(coalescedMessages(['U1', 'U2'], 'prices:SPY'));
    now += 800; // the same second: a second tick finds U1 and U3
    await queue.enqueue(coalescedMessages(['U1', 'U3'], 'prices:QQQ'));
    expect(queue.drain().map((m) => (m.kind === 'accounts' ? m.accountIds : []))).toEqual([
      ['U1'],
      ['U2'],
      ['U3'],
    ]);
    now += 200; // the next second
    await queue.enqueue(coalescedMessages(['U1'], 'prices:SPY'));
    expect(queue.drain()).toEqual(coalescedMessages(['U1'], 'prices:SPY'));
    expect(queue.messages).toEqual([]);
  });

  it('never drops other messages, however often they repeat', async () => {
    const queue = new LocalWorkQueue(() => 0);
    const batch = accountMessages(['B1', 'B2'], 'watch:w1');
    await queue.enqueue(batch);
    await queue.enqueue(batch);
    expect(queue.drain()).toEqual([...batch, ...batch]);
  });

  it('forgets an id after five minutes, like SQS (a clock set back reuses a second’s id)', async () => {
    let now = 5_000;
    const queue = new LocalWorkQueue(() => now);
    await queue.enqueue(coalescedMessages(['U1'], 'r'));
    now += FIFO_DEDUP_WINDOW_MS;
    await queue.enqueue(coalescedMessages(['U2'], 'r')); // prunes U1#5
    now = 5_000;
    await queue.enqueue(coalescedMessages(['U1'], 'r'));
    expect(queue.drain()).toHaveLength(3);
  });
});
