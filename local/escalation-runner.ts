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

/** The state machines exactly as the CDK stack synthesizes them (bundling skipped: only the definitions matter). */
function definitions(): Record<string, Record<string, unknown>> {
  if (cached) return cached;
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
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
 * handler) with the payload the state would send to Lambda; Wait states take `waitMs` (default 0).
 */
export function startEscalationRun(
  input: { accountId: string; incidentId: string },
  step: (payload: unknown) => Promise<unknown>,
  waitMs = 0,
): LocalExecution {
  return startRun(escalationDefinition(), input, step, waitMs);
}

/** A run of any synthesized definition, every Task state mapped to `step`. */
export function startRun(
  definition: Record<string, Json>,
  input: object,
  step: (payload: unknown) => Promise<unknown>,
  waitMs = 0,
): LocalExecution {
  const states = definition.States as Record<string, { Type: string }>;
  const names = Object.keys(states);
  const machine = new StateMachine(definition as never, { validationOptions: { checkArn: false } });
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
    },
  });
  const path: string[] = [];
  const collecting = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateEntered') path.push(event.state.name);
    }
  })();
  const done = (async (): Promise<LocalRun> => {
    try {
      const output = await execution.result;
      await collecting.catch(() => {});
      return { path, status: output === null ? 'ABORTED' : 'SUCCEEDED', output };
    } catch (e) {
      await collecting.catch(() => {});
      return { path, status: 'FAILED', output: null, error: (e as Error).message };
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
