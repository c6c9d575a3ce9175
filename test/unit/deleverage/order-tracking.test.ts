import { describe, expect, it } from 'vitest';
import {
  applyFeedback,
  executionState,
  type TrackedOrder,
} from '../../../shared/deleverage/order-tracking.ts';
import type { BrokerEvent } from '../../../shared/events/broker-feedback.ts';

const order: TrackedOrder = {
  idempotencyKey: 'k1',
  accountId: 'A',
  incidentId: 'i',
  step: 'deleverage',
  instrument: 'XYZ',
  side: 'SELL',
  requested: '100',
  filled: '0',
  filledNotional: '0',
  fees: '0',
  status: 'requested',
  requestedAt: '2026-03-02T10:00:00.000Z',
  updatedAt: '2026-03-02T10:00:00.000Z',
  seen: [],
};
const env = (eventId: string) => ({
  schemaVersion: '1' as const,
  eventId,
  accountId: 'A',
  idempotencyKey: 'k1',
  occurredAt: '2026-03-02T10:01:00.000Z',
});
const fill = (eventId: string, cumulative: string, price: string, final = false): BrokerEvent => ({
  detailType: 'OrderFilled',
  detail: {
    ...env(eventId),
    quantity: cumulative,
    cumulativeQuantity: cumulative,
    price,
    fees: '0.5',
    final,
  },
});

describe('order tracking, by hand', () => {
  it('fills accumulate by cumulative quantity: redelivered or out-of-order fills never double count', () => {
    let o = applyFeedback(order, {
      detailType: 'OrderAccepted',
      detail: { ...env('e0'), brokerOrderId: 'B1' },
    });
    expect(o.status).toBe('accepted');
    o = applyFeedback(o, fill('e1', '40', '99'));
    o = applyFeedback(o, fill('e1', '40', '99')); // redelivered: same event id
    expect(o).toMatchObject({
      status: 'partially-filled',
      filled: '40',
      filledNotional: '3960',
      fees: '0.5',
    });
    o = applyFeedback(o, fill('e3', '100', '98'));
    o = applyFeedback(o, fill('e2', '70', '98.5')); // late: already covered by cumulative 100
    // 40 at 99 and 60 at 98: notional 3,960 + 5,880 = 9,840.
    expect(o).toMatchObject({ status: 'filled', filled: '100', filledNotional: '9840', fees: '1.5' });
  });

  it('a final part fill ends the order short; a rejection after a fill is a cancellation; final states stay final', () => {
    const short = applyFeedback(order, fill('e1', '25', '99', true));
    expect(short).toMatchObject({ status: 'cancelled', filled: '25' });
    expect(
      applyFeedback(short, { detailType: 'OrderRejected', detail: { ...env('e2'), reason: 'late' } }).status,
    ).toBe('cancelled');
    const rejected = applyFeedback(order, {
      detailType: 'OrderRejected',
      detail: { ...env('e1'), reason: 'no borrow' },
    });
    expect(rejected.status).toBe('rejected');
    // More than requested is never recorded.
    expect(applyFeedback(order, fill('e9', '150', '99')).filled).toBe('100');
  });

  it('execution state: short (ended unfilled), open, and overdue after the fill timeout', () => {
    const open = applyFeedback(order, {
      detailType: 'OrderAccepted',
      detail: { ...env('e0'), brokerOrderId: 'B' },
    });
    const short = applyFeedback({ ...order, idempotencyKey: 'k2' }, fill('e1', '25', '99', true));
    const s = executionState([open, short], new Date('2026-03-02T10:15:00.000Z'), 15 * 60_000);
    expect(s.short.map((o) => o.idempotencyKey)).toEqual(['k2']);
    expect(s.open.map((o) => o.idempotencyKey)).toEqual(['k1']);
    expect(s.overdue.map((o) => o.idempotencyKey)).toEqual(['k1']);
    expect(executionState([open], new Date('2026-03-02T10:14:59.000Z'), 15 * 60_000).overdue).toEqual([]);
  });
});
