import { describe, expect, it } from 'vitest';
import { JavaMissingError, startDynamoDbLocal } from '../../../local/dynamodb-local.ts';

describe('DynamoDB Local harness', () => {
  it('says clearly that Java is missing instead of failing obscurely', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(startDynamoDbLocal()).rejects.toBeInstanceOf(JavaMissingError);
      await expect(startDynamoDbLocal()).rejects.toThrow(/needs Java 17 or newer/);
    } finally {
      process.env.PATH = path;
    }
  });
});
