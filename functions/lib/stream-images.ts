import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { InputError } from '../../shared/errors.ts';

/**
 * A stream record's image (or keys) as plain values; null when the record has none. An image that has no
 * plain form — a number beyond 2^53 (unmarshall refuses to round it), an attribute value that is not
 * one — is bad input naming the image, so the record is dead-lettered instead of failing its batch again
 * and again (a poison record would hold up the whole shard).
 */
export function readImage(raw: unknown, field: string): Record<string, unknown> | null {
  if (raw === undefined || raw === null) return null;
  try {
    return unmarshall(raw as Record<string, AttributeValue>);
  } catch (e) {
    throw InputError.single(field, `unreadable: ${(e as Error).message}`);
  }
}
