import './promise-with-resolvers.ts';
import { existsSync, readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { StateMachine } from 'aws-local-stepfunctions';
import type { TaskCallbacks } from '../functions/lib/escalation-waits.ts';
import { readDeployConfig } from '../infra/config.ts';
import { MarginGuardStack } from '../infra/stack.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Joins a CloudFormation Fn::Join, turning every Fn::GetAtt / Ref into a stable fake ARN. */
function resolveIntrinsics(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v['Fn::Join']) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(resolveIntrinsics).join(sep);
  }
  if (v['Fn::GetAtt'])
    return `arn:aws:lambda:us-east-1:123456789012:function:${(v['Fn::GetAtt'] as string[])[0]}`;
  if (v.Ref) return `arn:aws:states:us-east-1:123456789012:${String(v.Ref)}`;
  throw new Error(
    `unsupported intrinsic in state machine definition: ${JSON.stringify(value).slice(0, 120)}`,
  );
}

let cached: Record<string, Record<string, unknown>> | undefined;

/**
 * Where a test run keeps the synthesized state machines (test/global-setup.ts writes them once): each
 * local-mode test file would otherwise synthesize the whole stack again (about 2 CPU-seconds a file).
 */
export const STATE_MACHINES_FILE_ENV = 'MG_STATE_MACHINES_FILE';

/**
 * The state machines exactly as the CDK stack synthesizes them. Only the definitions matter here, so
 * bundling is skipped and so is CDK's built-in CloudFormation validation of the whole template (a WASM
 * engine that took two thirds of the synth; `npm run synth` and the infra tests still run it).
 */
export function definitions(): Record<string, Record<string, unknown>> {
  if (cached) return cached;
  const file = process.env[STATE_MACHINES_FILE_ENV];
  if (file && existsSync(file)) return (cached = JSON.parse(readFileSync(file, 'utf8')));
  const app = new App({
    context: { 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: false,
  });
  const stack = new MarginGuardStack(app, 'Local', readDeployConfig({ stage: 'local' }), {
    env: { account: '123456789012', region: 'us-east-1' },
  });
  cached = Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine');
  return cached;
}

function definitionOf(prefix: 'Escalation' | 'Paging'): Record<string, Json> {
  const found = Object.entries(definitions()).filter(([id]) => id.startsWith(`${prefix}StateMachine`));
  if (found.length !== 1) throw new Error(`expected one ${prefix} state machine, found ${found.length}`);
  const props = (found[0]![1] as { Properties: { DefinitionString: unknown } }).Properties;
  return JSON.parse(resolveIntrinsics(props.DefinitionString)) as Record<string, Json>;
}

/** The escalation workflow (one execution per incident). */
export const escalationDefinition = () => definitionOf('Escalation');
/** The on-call paging workflow (one execution per page). */
export const pagingDefinition = () => definitionOf('Paging');

export interface LocalRun {
  /** States entered, in order. */
  path: string[];
  /** Each retry, in order: the state and the error it was retried on. */
  retries: { state: string; error: string }[];
  /** Each error a state raised (retried, caught or final), in order. */
  failures: { state: string; error: string }[];
  status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  output: unknown;
  error?: string;
}

/**
 * Step Functions' callback API in process: a callback task (`.waitForTaskToken`) issues a token, runs its
 * step with it, and waits until `succeed(token)` — from the step itself, a waker, a test — or its local
 * backstop. A token that is not waiting (never issued, already completed or timed out) is refused, as
 * SendTaskSuccess refuses it.
 */
export class LocalCallbacks implements TaskCallbacks {
  private readonly waiting = new Map<string, (output: Record<string, unknown>) => void>();
  private issued = 0;
  /** Every completion accepted, in order. */
  readonly completed: { token: string; output: Record<string, unknown> }[] = [];

  issue(): { token: string; done: Promise<Record<string, unknown>>; drop: () => void } {
    const token = `local-task-${++this.issued}`;
    let resolve!: (output: Record<string, unknown>) => void;
    const promise = new Promise<Record<string, unknown>>((r) => (resolve = r));
    this.waiting.set(token, resolve);
    return { token, done: promise, drop: () => void this.waiting.delete(token) };
  }

  async succeed(token: string, output: Record<string, unknown>): Promise<boolean> {
    const resolve = this.waiting.get(token);
    if (!resolve) return false;
    this.waiting.delete(token);
    this.completed.push({ token, output });
    resolve(output);
    return true;
  }

  /** Tokens issued and still waiting. */
  get pending(): string[] {
    return [...this.waiting.keys()];
  }
}

export interface CallbackOptions {
  /** The callback API the callback tasks wait on. @default a new LocalCallbacks */
  readonly callbacks?: LocalCallbacks;
  /**
   * How long a callback task waits for its token before it ends as its backstop would (on to the next
   * state, as the definition's States.Timeout catch does); Infinity leaves it to the definition's own
   * timeout (`TimeoutSecondsPath`, in real seconds). @default waitMs
   */
  readonly callbackMs?: number;
}

export interface LocalExecution {
  done: Promise<LocalRun>;
  /** Ends the execution where it stands (e.g. the replay ran out of bars). */
  abort(): void;
}

/**
 * Runs the synthesized definition in-process: every Task state calls `step` (the real escalation step
 * handler) with the payload the state would send to Lambda; Wait states take `waitMs` (default 0), and
 * so do the backoffs between retries (the Retry policies themselves — which errors, how many times —
 * are the definition's).
 */
export function startEscalationRun(
  input: { accountId: string; incidentId: string },
  step: (payload: unknown) => Promise<unknown>,
  waitMs = 0,
  options: CallbackOptions = {},
): LocalExecution {
  return startRun(escalationDefinition(), input, step, waitMs, waitMs, options);
}

const LOCAL_TIMEOUT = '__localTimeoutSeconds';

/**
 * Step Functions resolves a Task's `TimeoutSecondsPath` against the state's input; aws-local-stepfunctions
 * resolves it against the task's parameters. So a task with both gets, in the local copy only, the path's
 * value carried in its Payload and its TimeoutSecondsPath pointed there: the same timeout as on AWS.
 */
function withStateInputTimeouts(definition: Record<string, Json>): Record<string, Json> {
  const states = definition.States as Record<string, Record<string, Json>>;
  const patched = Object.entries(states).map(([name, state]) => {
    const path = state.TimeoutSecondsPath;
    const parameters = state.Parameters as Record<string, Json> | undefined;
    const payload = parameters?.Payload as Record<string, Json> | undefined;
    if (typeof path !== 'string' || !payload || typeof payload !== 'object') return [name, state];
    return [
      name,
      {
        ...state,
        TimeoutSecondsPath: `$.Payload.${LOCAL_TIMEOUT}`,
        Parameters: { ...parameters, Payload: { ...payload, [`${LOCAL_TIMEOUT}.$`]: path } },
      },
    ];
  });
  return { ...definition, States: Object.fromEntries(patched) };
}

/** Definitions (as JSON) that have passed the ASL validator in this process. */
const validated = new Set<string>();

/** A run of any synthesized definition, every Task state mapped to `step`. */
export function startRun(
  definition: Record<string, Json>,
  input: object,
  step: (payload: unknown) => Promise<unknown>,
  waitMs = 0,
  /** The wait before each retry. @default waitMs */
  retryMs = waitMs,
  options: CallbackOptions = {},
): LocalExecution {
  definition = withStateInputTimeouts(definition);
  const states = definition.States as Record<string, { Type: string; Resource?: string }>;
  const callbacks = options.callbacks ?? new LocalCallbacks();
  const callbackMs = options.callbackMs ?? waitMs;
  /** A callback task: its step runs with a fresh token, then the task waits for the token's completion. */
  const callback = async (parameters: unknown) => {
    const issued = callbacks.issue();
    // `lambda:invoke.waitForTaskToken` takes { FunctionName, Payload }: the function gets the Payload.
    const { [LOCAL_TIMEOUT]: _, ...payload } =
      (parameters as { Payload?: Record<string, unknown> }).Payload ?? {};
    try {
      await step({ ...payload, taskToken: issued.token });
      if (!Number.isFinite(callbackMs)) return await issued.done;
      let timer: NodeJS.Timeout | undefined;
      const backstop = new Promise<Record<string, unknown>>((resolve) => {
        timer = setTimeout(() => resolve({ backstop: true }), callbackMs);
      });
      return await Promise.race([issued.done, backstop]).finally(() => clearTimeout(timer));
    } finally {
      issued.drop();
    }
  };
  const names = Object.keys(states);
  // A definition is validated the first time it runs in a process (the validator compiles its JSON Schema
  // on every call: a few hundred milliseconds a run, and local mode and the tests start many runs).
  const key = JSON.stringify(definition);
  const machine = new StateMachine(definition as never, {
    validationOptions: { checkArn: false, noValidate: validated.has(key) },
  });
  validated.add(key);
  const execution = machine.run(input as never, {
    noThrowOnAbort: true,
    // `$$.Task.Token` resolves to this; each callback task's step gets its own token (above).
    context: { Task: { Token: 'local-task' } },
    overrides: {
      taskResourceLocalHandlers: Object.fromEntries(
        names
          .filter((n) => states[n]!.Type === 'Task')
          .map((n) => [
            n,
            states[n]!.Resource?.endsWith('.waitForTaskToken')
              ? (payload: unknown) => callback(payload) as never
              : (payload: unknown) => step(payload) as never,
          ]),
      ),
      waitTimeOverrides: Object.fromEntries(
        names.filter((n) => states[n]!.Type === 'Wait').map((n) => [n, waitMs]),
      ),
      retryIntervalOverrides: Object.fromEntries(
        names.filter((n) => states[n]!.Type === 'Task').map((n) => [n, retryMs]),
      ),
    },
  });
  const path: string[] = [];
  const retries: LocalRun['retries'] = [];
  const failures: LocalRun['failures'] = [];
  const collecting = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateEntered') path.push(event.state.name);
      if (event.type === 'StateFailed')
        failures.push({ state: event.state.name, error: event.Error ?? 'unknown' });
      if (event.type === 'StateRetried')
        retries.push({ state: event.state.name, error: failures.at(-1)?.error ?? 'unknown' });
    }
  })();
  const done = (async (): Promise<LocalRun> => {
    try {
      const output = await execution.result;
      await collecting.catch(() => {});
      return { path, retries, failures, status: output === null ? 'ABORTED' : 'SUCCEEDED', output };
    } catch (e) {
      await collecting.catch(() => {});
      return { path, retries, failures, status: 'FAILED', output: null, error: (e as Error).message };
    }
  })();
  return { done, abort: () => execution.abort() };
}

export function runEscalation(
  input: { accountId: string; incidentId: string },
  step: (payload: unknown) => Promise<unknown>,
  waitMs = 0,
  options: CallbackOptions = {},
): Promise<LocalRun> {
  return startEscalationRun(input, step, waitMs, options).done;
}
