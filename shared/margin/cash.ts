import { z } from 'zod';
import { Decimal, ZERO, max, sum } from '../decimal.ts';
import { addBusinessDays } from '../calendar.ts';
import type { FieldIssue } from '../errors.ts';
import { commonParamsShape } from './common-params.ts';
import type { Book, CommonParams, MarginModel } from './model.ts';
import {
  notionalAt,
  separableBandCurves,
  separableCurve,
  separableRequirements,
  type PositionRule,
} from './separable.ts';

/**
 * Cash account: fully paid, no shorts, no borrowing. Buying power is settled cash only; sale proceeds
 * settle T+1 (configurable). Nothing is lent, so the only maintenance requirement is an unpaid debit.
 */
export const cashParamsSchema = z
  .object({
    ...commonParamsShape,
    settlementDays: z.number().int().min(0).max(5).default(1),
  })
  .strict();

export type CashParams = z.output<typeof cashParamsSchema> & CommonParams;

const fullyPaid: PositionRule = {
  requirement: (position, price) => ({ initial: notionalAt(position, price), maintenance: ZERO }),
  priceBreakpoints: () => [],
  initialBreakpoints: () => [],
};

function debit(book: Book<CashParams>): Decimal {
  return max(ZERO, book.account.cash.negated());
}

export interface Settlement {
  settledCash: Decimal;
  unsettled: Decimal;
}

export function settlement(book: Book<CashParams>): Settlement {
  const { account, params, asOf } = book;
  let settledSince = ZERO;
  let unsettled = ZERO;
  for (const item of account.pendingSettlements) {
    if (addBusinessDays(item.tradeDate, params.settlementDays) <= asOf)
      settledSince = settledSince.plus(item.amount);
    else unsettled = unsettled.plus(item.amount);
  }
  // An explicit settled balance excludes every pending item; otherwise cash includes them all.
  const settledCash =
    account.settledCash !== undefined
      ? account.settledCash.plus(settledSince)
      : account.cash.minus(sum(account.pendingSettlements.map((p) => p.amount))).plus(settledSince);
  return { settledCash, unsettled };
}

export const cashModel: MarginModel<CashParams> = {
  name: 'cash',
  valuation: 'spot',
  paramsSchema: cashParamsSchema as z.ZodType<CashParams, unknown>,
  validate(book) {
    const issues: FieldIssue[] = [];
    book.positions.forEach((p, i) => {
      if (p.quantity.isNegative()) {
        issues.push({
          field: `positions[${i}].quantity`,
          message: `cash accounts cannot hold short positions (${p.instrument} is ${p.quantity.toFixed()}); use a margin account`,
        });
      }
    });
    return issues;
  },
  requirements: (book) => separableRequirements(book.positions, fullyPaid, debit(book)),
  curve: (book, moving, axis) => separableCurve(book.positions, fullyPaid, moving, axis, debit(book)),
  bandCurves: (book, index) => separableBandCurves(book.positions, fullyPaid, index, debit(book)),
  separable: (book) => ({ rule: fullyPaid, accountMaintenance: debit(book) }),
  funds(book, core) {
    const { settledCash, unsettled } = settlement(book);
    // Open buy orders hold their full cost (fully paid) out of settled cash.
    const available = max(ZERO, settledCash.minus(core.openOrderInitial ?? ZERO));
    const violations: string[] = [];
    if (book.account.cash.isNegative()) {
      violations.push(
        `cash account debit of ${book.account.cash.negated().toFixed()}: must be paid or covered by a sale`,
      );
    }
    return {
      availableFunds: available,
      buyingPower: available,
      details: { settledCash, unsettledCash: unsettled },
      violations,
    };
  },
};
