import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { conditionFailed } from './conditional.ts';

/**
 * Escalations wait on events, not on a clock: a waiting execution's task token is stored under its
 * account (Actions table, `WAIT`), and the account's next RiskLevelChanged completes it (the waker,
 * functions/escalation-waker). A wait that no event ends times out at the backstop
 * (`wakeBackstopSeconds`) and re-checks anyway.
 */
export interface Waiter {
  accountId: string;
  incidentId: string;
  /** The callback task's token (Step Functions `$$.Task.Token`). */
  token: string;
  /** The level the execution last saw (its re-check's). */
  level: string | null;
  since: string;
}

/** Where waiting executions' tokens are kept: one per account (an account has one open incident). */
export interface WaitStore {
  put(waiter: Waiter): Promise<void>;
  get(accountId: string): Promise<Waiter | null>;
  /** Removes the waiter if it still holds `token` (a newer wait's token is left alone). */
  clear(accountId: string, token: string): Promise<void>;
}

/** Step Functions' callback API (SendTaskSuccess), as the steps and the waker use it. */
export interface TaskCallbacks {
  /** Completes the task; false when the token is no longer waiting (timed out, ended, unknown). */
  succeed(token: string, output: Record<string, unknown>): Promise<boolean>;
}

const WAIT_KEY = 'WAIT';

/** The error name of a wait that ended before it began (the account changed since its re-check). */
export const ACCOUNT_CHANGED = 'AccountChanged';

/**
 * Thrown by the `wait` step when the account changed between the execution's re-check and the token being
 * stored: the callback task fails at once with this name, and the state machine goes on to the re-check.
 */
export class AccountChangedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = ACCOUNT_CHANGED;
  }
}

export class DynamoWaitStore implements WaitStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async put(waiter: Waiter): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { ...waiter, actionKey: WAIT_KEY } }));
  }

  async get(accountId: string): Promise<Waiter | null> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { accountId, actionKey: WAIT_KEY },
        ConsistentRead: true,
      }),
    );
    if (!out.Item) return null;
    const { actionKey: _, ...waiter } = out.Item as Waiter & { actionKey: string };
    return waiter;
  }

  async clear(accountId: string, token: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { accountId, actionKey: WAIT_KEY },
          ConditionExpression: '#t = :t',
          ExpressionAttributeNames: { '#t': 'token' },
          ExpressionAttributeValues: { ':t': token },
        }),
      );
    } catch (e) {
      if (!conditionFailed(e)) throw e;
    }
  }
}

/** In memory (local mode's stand-in, tests). */
export class MemoryWaitStore implements WaitStore {
  readonly waiters = new Map<string, Waiter>();
  async put(waiter: Waiter): Promise<void> {
    this.waiters.set(waiter.accountId, { ...waiter });
  }
  async get(accountId: string): Promise<Waiter | null> {
    const w = this.waiters.get(accountId);
    return w ? { ...w } : null;
  }
  async clear(accountId: string, token: string): Promise<void> {
    if (this.waiters.get(accountId)?.token === token) this.waiters.delete(accountId);
  }
}

/**
 * Ends the account's escalation wait, if one is waiting: the waker's whole job, on every RiskLevelChanged.
 * Returns whether a waiting execution was woken. A token that is no longer waiting (its wait timed out at
 * the backstop, or the execution ended) is dropped: that execution has re-checked, or will.
 */
export async function wakeEscalation(
  accountId: string,
  reason: string,
  d: { waits: WaitStore; callbacks: TaskCallbacks },
): Promise<boolean> {
  const waiter = await d.waits.get(accountId);
  if (!waiter) return false;
  const woken = await d.callbacks.succeed(waiter.token, { woken: reason });
  await d.waits.clear(accountId, waiter.token);
  return woken;
}

/** Step Functions errors of SendTaskSuccess that mean "no such task is waiting": not a failure of ours. */
export const GONE_TASK_ERRORS: readonly string[] = ['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'];

/** SendTaskSuccess on AWS; any other error (throttling, 5xx) is thrown, for the caller's retries. */
export class SfnTaskCallbacks implements TaskCallbacks {
  constructor(private readonly sfn: Pick<SFNClient, 'send'>) {}

  async succeed(token: string, output: Record<string, unknown>): Promise<boolean> {
    try {
      await this.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }));
      return true;
    } catch (e) {
      if (GONE_TASK_ERRORS.includes((e as { name?: string }).name ?? '')) return false;
      throw e;
    }
  }
}
