import './promise-with-resolvers.ts';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { StateMachine } from 'aws-local-stepfunctions';
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
 * The state machines exactly as the CDK stack synthesizes them. Only the definitions matter here, so
 * bundling is skipped and so is CDK's built-in CloudFormation validation of the whole template (a WASM
 * engine that took two thirds of the synth; `npm run synth` and the infra tests still run it).
 */
function definitions(): Record<string, Record<string, unknown>> {
  if (cached) return cached;
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
): LocalExecution {
  return startRun(escalationDefinition(), input, step, waitMs);
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
): LocalExecution {
  const states = definition.States as Record<string, { Type: string }>;
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
    overrides: {
      taskResourceLocalHandlers: Object.fromEntries(
        names
          .filter((n) => states[n]!.Type === 'Task')
          .map((n) => [n, (payload: unknown) => step(payload) as never]),
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
): Promise<LocalRun> {
  return startEscalationRun(input, step, waitMs).done;
}
