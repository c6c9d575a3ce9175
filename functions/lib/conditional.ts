/** A DynamoDB condition that did not hold: the expected outcome of a guarded write, not a failure. */
export const conditionFailed = (e: unknown): boolean =>
  (e as { name?: string }).name === 'ConditionalCheckFailedException';
