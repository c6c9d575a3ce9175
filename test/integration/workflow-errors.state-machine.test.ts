import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runPagingStep } from '../../functions/paging/handler.ts';
import { WORKLOAD } from '../../scripts/cost-model.ts';
import { InputError } from '../../shared/errors.ts';
import {
  escalationDefinition,
  pagingDefinition,
  startRun,
  type LocalRun,
} from '../../local/escalation-runner.ts';

/**
 * Every error class a workflow step can raise, through the state machines exactly as the stack
 * synthesizes them (aws-local-stepfunctions; each Task's Lambda replaced by a script): what is retried,
 * how often, and where the rest ends — never in silence.
 */

type Payload = { action: string; [k: string]: unknown };
type Script = Record<string, (payload: Payload, call: number) => unknown>;

/** Every Task calls the script for its `action`; `calls` lists them in order. */
function scripted(script: Script) {
  const calls: Payload[] = [];
  const count: Record<string, number> = {};
  return {
    calls,
    count,
    step: async (raw: unknown) => {
      const payload = raw as Payload;
      calls.push(payload);
      const n = (count[payload.action] = (count[payload.action] ?? 0) + 1);
      // A wait's step only stores its token (the local callback then ends the wait at once).
      const answer = script[payload.action] ?? (payload.action === 'wait' ? () => ({}) : undefined);
      if (!answer) throw new Error(`no script for ${payload.action}`);
      return answer(payload, n);
    },
  };
}

/** An error as Lambda reports it to Step Functions: by its name. */
const named = (name: string, message = `${name} (injected)`) => Object.assign(new Error(message), { name });

/** Throws `error` on the first `times` calls, then answers. */
const failing =
  (times: number, error: () => Error, answer: (p: Payload) => unknown) => (p: Payload, call: number) => {
    if (call <= times) throw error();
    return answer(p);
  };

const stepOutput = (p: Payload, over: Record<string, unknown> = {}) => ({
  accountId: p.accountId,
  incidentId: p.incidentId,
  action: p.action,
  level: 'LIQUIDATION',
  marginRatio: '0.9',
  held: false,
  recovered: false,
  performed: true,
  note: 'ok',
  waitSeconds: 0,
  holdPollSeconds: 0,
  wakeSeconds: 1,
  ...over,
});

const input = { accountId: 'A1', incidentId: 'A1:risk:1', attempt: 0 };
const escalate = (script: Script, runInput: object = input) => {
  const s = scripted(script);
  return { ...s, done: startRun(escalationDefinition(), runInput, s.step).done };
};
const retriesAt = (run: LocalRun, state: string) => run.retries.filter((r) => r.state === state);

/** Errors the workflows retry with the long backoff (infra/constructs/step-retries.ts). */
const TRANSIENT = [
  'TransientError',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
  // Lambda's own report of a function that ran past its timeout (or out of memory)
  'Lambda.Unknown',
  'Sandbox.Timedout',
  // the task's TimeoutSeconds (also driven for real below)
  'States.Timeout',
];

beforeAll(() => {
  escalationDefinition();
  pagingDefinition();
}, 180_000);
afterEach(() => void vi.useRealTimers());

describe('escalation workflow: every error class a step raises', () => {
  it.each(TRANSIENT)('%s is retried with backoff, then the step goes on', async (error) => {
    const run = await escalate({
      alert: failing(
        2,
        () => named(error),
        (p) => stepOutput(p),
      ),
      liquidate: failing(
        2,
        () => named(error),
        (p) => stepOutput(p),
      ),
      fail: (p) => stepOutput(p),
    }).done;
    expect(run.error ?? run.status).toBe('SUCCEEDED');
    expect(run.path).toEqual(['Alert', 'After first look', 'Liquidate', 'Liquidation requested']);
    expect(retriesAt(run, 'Alert')).toEqual([
      { state: 'Alert', error },
      { state: 'Alert', error },
    ]);
    expect(retriesAt(run, 'Liquidate')).toHaveLength(2);
  });

  it('a transient error that outlasts 10 retries goes to the catch path: on-call paged, execution failed', async () => {
    const s = escalate({
      alert: () => {
        throw named('TransientError', 'TransientError: InternalErrorException: SNS unavailable');
      },
      fail: (p) => stepOutput(p, { action: 'fail' }),
    });
    const run = await s.done;
    expect(run.status).toBe('FAILED');
    expect(s.count.alert).toBe(11);
    expect(retriesAt(run, 'Alert')).toHaveLength(10);
    expect(run.path.slice(-2)).toEqual(['Page on-call about the failure', 'Escalation failed']);
    const fail = s.calls.find((c) => c.action === 'fail')!;
    expect(fail).toMatchObject({
      accountId: 'A1',
      incidentId: 'A1:risk:1',
      error: { Error: 'TransientError' },
      execution: { attempt: 0 },
    });
    expect(String((fail.error as { Cause: string }).Cause)).toContain('SNS unavailable');
  });

  it('PermanentError is never retried: straight to the catch path, which pages with its code', async () => {
    const s = escalate({
      alert: (p) => stepOutput(p, { level: 'CRITICAL' }),
      deleverage: () => {
        throw named('PermanentError', 'PermanentError: AccountNotFound: account A1 no longer exists');
      },
      fail: (p) => stepOutput(p, { action: 'fail' }),
    });
    const run = await s.done;
    expect(run.status).toBe('FAILED');
    expect(s.count.deleverage).toBe(1);
    expect(run.retries).toEqual([]);
    expect(run.path).toEqual([
      'Alert',
      'After first look',
      'Deleverage',
      'Page on-call about the failure',
      'Escalation failed',
    ]);
    expect(s.calls.at(-1)).toMatchObject({ action: 'fail', error: { Error: 'PermanentError' } });
  });

  it('an error nobody classified is retried 3 times, then caught and paged', async () => {
    const s = escalate({
      alert: () => {
        throw new TypeError('cannot read properties of undefined');
      },
      fail: (p) => stepOutput(p, { action: 'fail' }),
    });
    const run = await s.done;
    expect(run.status).toBe('FAILED');
    expect(s.count.alert).toBe(4);
    expect(retriesAt(run, 'Alert').map((r) => r.error)).toEqual(['TypeError', 'TypeError', 'TypeError']);
    expect(s.calls.at(-1)).toMatchObject({ action: 'fail', error: { Error: 'TypeError' } });
  });

  it('the catch path is retried too: a page that fails once still goes out; the execution still fails', async () => {
    const s = escalate({
      alert: () => {
        throw named('PermanentError');
      },
      fail: failing(
        1,
        () => named('TransientError'),
        (p) => stepOutput(p, { action: 'fail' }),
      ),
    });
    const run = await s.done;
    expect(run.status).toBe('FAILED');
    expect(s.count.fail).toBe(2);
    expect(retriesAt(run, 'Page on-call about the failure')).toHaveLength(1);
    expect(run.path.at(-1)).toBe('Escalation failed');
  });

  it('the catch path is told which attempt at the incident failed (a restart’s input)', async () => {
    const s = escalate(
      {
        alert: () => {
          throw named('PermanentError');
        },
        fail: (p) => stepOutput(p, { action: 'fail' }),
      },
      { ...input, attempt: 2 },
    );
    await s.done;
    expect(s.calls.at(-1)).toMatchObject({ action: 'fail', execution: { attempt: 2 } });
  });

  it('a step hanging past its TimeoutSeconds times out (States.Timeout) and is retried', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const timeout = (escalationDefinition().States as Record<string, { TimeoutSeconds?: number }>).Alert!
      .TimeoutSeconds!;
    expect(timeout).toBe(90); // the Lambda's 60 s, plus 30
    const s = escalate({
      alert: (p, call) => (call === 1 ? new Promise(() => {}) : stepOutput(p)), // the first never answers
      liquidate: (p) => stepOutput(p),
      fail: (p) => stepOutput(p),
    });
    await vi.advanceTimersByTimeAsync(timeout * 1000 + 1);
    vi.useRealTimers();
    const run = await s.done;
    expect(run.error ?? run.status).toBe('SUCCEEDED');
    expect(retriesAt(run, 'Alert')).toEqual([{ state: 'Alert', error: 'States.Timeout' }]);
  });

  it('every task has the same policy: PermanentError never, transient 10 times (jittered), others 3; caught', () => {
    const states = escalationDefinition().States as Record<string, Record<string, unknown>>;
    const tasks = Object.entries(states).filter(
      ([, s]) => s.Type === 'Task' && !String(s.Resource).endsWith('.waitForTaskToken'),
    );
    expect(tasks.length).toBeGreaterThanOrEqual(6);
    for (const [name, task] of tasks) {
      expect(task.TimeoutSeconds, name).toBe(90);
      expect(task.Retry, name).toEqual([
        { ErrorEquals: ['PermanentError'], MaxAttempts: 0 },
        {
          ErrorEquals: TRANSIENT,
          IntervalSeconds: 2,
          MaxAttempts: 10,
          BackoffRate: 2,
          MaxDelaySeconds: 60,
          JitterStrategy: 'FULL',
        },
        {
          ErrorEquals: ['States.TaskFailed'],
          IntervalSeconds: 2,
          MaxAttempts: 3,
          BackoffRate: 2,
          MaxDelaySeconds: 30,
          JitterStrategy: 'FULL',
        },
      ]);
      if (name === 'Page on-call about the failure') expect(task.Catch, name).toBeUndefined();
      else
        expect(task.Catch, name).toEqual([
          { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Page on-call about the failure' },
        ]);
    }
  });

  it('the waits are callback tasks: their timeout (the backstop) and AccountChanged go on to the re-check, never retried', () => {
    const states = escalationDefinition().States as Record<string, Record<string, unknown>>;
    const waits = Object.entries(states).filter(([, s]) => String(s.Resource).endsWith('.waitForTaskToken'));
    expect(waits.map(([n]) => n).sort()).toEqual(['Wait after alert', 'Wait after deleverage']);
    for (const [name, wait] of waits) {
      const recheck = name === 'Wait after alert' ? 'Re-check after alert' : 'Re-check after deleverage';
      expect(wait.TimeoutSecondsPath, name).toBe('$.wakeSeconds');
      expect(wait.TimeoutSeconds, name).toBeUndefined();
      expect(wait.ResultPath, name).toBeNull();
      expect(wait.Next, name).toBe(recheck);
      expect(wait.Parameters, name).toMatchObject({
        FunctionName: expect.any(String),
        Payload: { action: 'wait', 'taskToken.$': '$$.Task.Token', 'level.$': '$.level' },
      });
      const retry = wait.Retry as { ErrorEquals: string[]; MaxAttempts: number }[];
      expect(retry[0], name).toEqual({ ErrorEquals: ['AccountChanged'], MaxAttempts: 0 });
      expect(retry[1], name).toEqual({ ErrorEquals: ['PermanentError'], MaxAttempts: 0 });
      expect(retry[2]!.ErrorEquals, name).toEqual(TRANSIENT.filter((e) => e !== 'States.Timeout'));
      expect(wait.Catch, name).toEqual([
        { ErrorEquals: ['States.Timeout', 'AccountChanged'], ResultPath: null, Next: recheck },
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Page on-call about the failure' },
      ]);
    }
  });

  it('a wait loop is the cost model’s transitions per re-check: wait → re-check → choice → the wait', () => {
    const states = escalationDefinition().States as Record<string, Record<string, unknown>>;
    for (const start of ['Wait after alert', 'Wait after deleverage']) {
      const loop = [start];
      let at = states[start]!.Next as string;
      while (at !== start) {
        loop.push(at);
        const state = states[at]!;
        at = (state.Type === 'Choice' ? state.Default : state.Next) as string;
        expect(loop.length, start).toBeLessThanOrEqual(5);
      }
      expect(loop.length, loop.join(' → ')).toBe(WORKLOAD.transitionsPerRecheck);
    }
  });

  it('a wait that nothing wakes times out at its backstop ($.wakeSeconds, real seconds) and re-checks', async () => {
    let checks = 0;
    const s = scripted({
      alert: (p) => stepOutput(p, { level: 'WARNING', wakeSeconds: 1 }),
      check: (p) => stepOutput(p, { recovered: ++checks > 0, level: 'SAFE' }),
      resolve: (p) => stepOutput(p, { recovered: true }),
    });
    // The local callback never ends the wait: only the definition's own timeout can.
    const run = await startRun(escalationDefinition(), input, s.step, 0, 0, { callbackMs: Infinity }).done;
    expect(run.error ?? run.status).toBe('SUCCEEDED');
    expect(run.path).toEqual([
      'Alert',
      'After first look',
      'Wait after alert',
      'Re-check after alert',
      'After alert',
      'Resolve and notify',
      'Resolved',
    ]);
    expect(run.failures).toEqual([{ state: 'Wait after alert', error: 'States.Timeout' }]);
    expect(retriesAt(run, 'Wait after alert')).toEqual([]);
    expect(s.calls.map((c) => c.action)).toEqual(['alert', 'wait', 'check', 'resolve']);
  });

  it('a wait that ends before it began (AccountChanged) goes straight to the re-check, not retried', async () => {
    const s = scripted({
      alert: (p) => stepOutput(p, { level: 'WARNING' }),
      wait: () => {
        throw named('AccountChanged', 'A1: now CRITICAL before the wait began (saw WARNING)');
      },
      check: (p) => stepOutput(p, { level: 'LIQUIDATION' }),
      liquidate: (p) => stepOutput(p),
    });
    const run = await startRun(escalationDefinition(), input, s.step, 0, 0, { callbackMs: Infinity }).done;
    expect(run.error ?? run.status).toBe('SUCCEEDED');
    expect(run.path).toEqual([
      'Alert',
      'After first look',
      'Wait after alert',
      'Re-check after alert',
      'After alert',
      'Liquidate',
      'Liquidation requested',
    ]);
    expect(retriesAt(run, 'Wait after alert')).toEqual([]);
    expect(s.calls.map((c) => c.action)).toEqual(['alert', 'wait', 'check', 'liquidate']);
  });
});

const page = { pageId: 'P1' };
const ladder = (over: Record<string, unknown> = {}) => ({
  pageId: 'P1',
  done: false,
  waitSeconds: 0,
  tier: 0,
  attempt: 1,
  note: 'paged',
  ...over,
});
const paging = (script: Script) => {
  const s = scripted(script);
  return { ...s, done: startRun(pagingDefinition(), page, s.step).done };
};

describe('paging workflow: every error class a step raises', () => {
  it.each(TRANSIENT)('%s is retried with backoff, then the ladder goes on', async (error) => {
    const run = await paging({
      start: failing(
        1,
        () => named(error),
        () => ladder(),
      ),
      escalate: failing(
        1,
        () => named(error),
        () => ladder({ done: true }),
      ),
      failed: () => ({}),
    }).done;
    expect(run.error ?? run.status).toBe('SUCCEEDED');
    expect(run.retries.map((r) => r.state)).toEqual(['Page the first tier', 'Escalate unless acknowledged']);
    expect(run.path.at(-1)).toBe('Acknowledged or exhausted');
  });

  it('PermanentError: the catch path reports the page and its error, and the execution fails', async () => {
    const s = paging({
      start: () => ladder(),
      escalate: () => {
        throw named('PermanentError', 'PermanentError: InputError: input.tier: expected number');
      },
      failed: () => ({ pageId: 'P1', reported: true }),
    });
    const run = await s.done;
    expect(run.status).toBe('FAILED');
    expect(s.count.escalate).toBe(1);
    expect(run.path.slice(-3)).toEqual([
      'Escalate unless acknowledged',
      'Report the paging failure',
      'Paging failed',
    ]);
    expect(s.calls.at(-1)).toMatchObject({
      action: 'failed',
      pageId: 'P1',
      error: { Error: 'PermanentError' },
    });
  });

  it('a transient error past its retries, or one nobody classified past 3, is reported the same way', async () => {
    for (const [error, calls] of [
      ['TransientError', 11],
      ['Error', 4],
    ] as const) {
      const s = paging({
        start: () => {
          throw named(error);
        },
        failed: () => ({ reported: true }),
      });
      const run = await s.done;
      expect(run.status, error).toBe('FAILED');
      expect(s.count.start, error).toBe(calls);
      expect(s.calls.at(-1), error).toMatchObject({ action: 'failed', error: { Error: error } });
    }
  });

  it('a report that keeps failing still ends the execution failed (alarmed), after its own retries', async () => {
    const s = paging({
      start: () => {
        throw named('PermanentError');
      },
      failed: () => {
        throw named('TransientError');
      },
    });
    const run = await s.done;
    expect(run.status).toBe('FAILED');
    expect(s.count.failed).toBe(11);
    expect(run.path.at(-1)).toBe('Paging failed');
  });

  it('with the real step handler: errors are classified, retried or reported', async () => {
    const reports: { pageId: string; error: unknown }[] = [];
    let throttled = 1;
    const steps = {
      pageStep: async (action: 'start' | 'escalate', pageId: string) => {
        if (action === 'start' && throttled-- > 0)
          throw Object.assign(new Error('Rate exceeded'), {
            name: 'ThrottlingException',
            $fault: 'client',
            $metadata: { httpStatusCode: 400 },
          });
        if (action === 'escalate') throw InputError.single('page.tier', 'unknown tier');
        return ladder({ pageId });
      },
      flushHeld: async () => 0,
      reportFailure: async (f: { pageId: string; error: unknown }) => void reports.push(f),
    };
    const run = await startRun(pagingDefinition(), page, (p) => runPagingStep(p, steps)).done;
    expect(run.status).toBe('FAILED');
    expect(run.retries).toEqual([{ state: 'Page the first tier', error: 'TransientError' }]);
    expect(run.failures.filter((f) => f.state === 'Escalate unless acknowledged')).toEqual([
      { state: 'Escalate unless acknowledged', error: 'PermanentError' },
    ]);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ pageId: 'P1', error: { Error: 'PermanentError' } });
    expect(String((reports[0]!.error as { Cause: string }).Cause)).toContain('InputError: page.tier');
  });
});
