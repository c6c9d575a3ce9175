import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { CfnManagedPolicy, CfnPolicy, CfnRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { readDeployConfig } from '../../infra/config.ts';
import { MarginGuardStack } from '../../infra/stack.ts';
import { wildcardGrantsFor } from '../../infra/wildcard-grants.ts';

/**
 * Least privilege on the synthesized policies (issue 21): every wildcard action or resource in any IAM
 * statement must be granted, with its reason, on the role that holds it (infra/wildcard-grants.ts) —
 * statement by statement, stricter than cdk-nag, whose IAM5 suppression covers a whole policy. sns:Publish
 * only on the project's topics, to phone numbers only from the SMS function; SES only on the configured
 * identities. No bundling and no template validation (stack.test.ts does both once).
 */
function synth(
  context: Record<string, unknown> = {},
  tweak?: (stack: MarginGuardStack) => void,
  { nag = true } = {},
): { stack: MarginGuardStack; template: Template } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const stack = new MarginGuardStack(app, 'Test', readDeployConfig(context), {
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  tweak?.(stack);
  if (nag) Aspects.of(stack).add(new AwsSolutionsChecks({ verbose: true }));
  app.synth();
  return { stack, template: Template.fromStack(stack) };
}

/** Every channel configured: e-mail (SES), Telegram, the webhook and its forwarder, a default policy. */
const FULL = {
  notificationSender: 'alerts@broker.example',
  telegramSecretName: 'mg/telegram',
  webhookSecretName: 'mg/webhook',
  notificationPolicySecretName: 'mg/notification-policy',
  alarmEmail: 'ops@broker.example',
};

/** A resource as cdk-nag renders it in a finding: `<Logical.Arn>/index/*`, `arn:<AWS::Partition>:…`. */
function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if ('Ref' in v) return `<${v.Ref as string}>`;
  if ('Fn::GetAtt' in v) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  if ('Fn::Join' in v) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(render).join(sep);
  }
  return JSON.stringify(value);
}

const isWild = (s: string) => /[*?]/.test(s);

interface Violation {
  policy: string;
  actions: string[];
  wildcard: string;
}

/**
 * The wildcards no grant allows: for each statement of each policy, every wildcard action must be named
 * by a grant on that policy's role, and every wildcard resource must match a grant that names every
 * action of the statement.
 */
function ungrantedWildcards(stack: Stack): Violation[] {
  const out: Violation[] = [];
  const policies = stack.node
    .findAll()
    .filter(
      (c): c is CfnPolicy | CfnManagedPolicy | CfnRole =>
        c instanceof CfnPolicy || c instanceof CfnManagedPolicy || c instanceof CfnRole,
    );
  for (const cfn of policies) {
    const documents =
      cfn instanceof CfnPolicy || cfn instanceof CfnManagedPolicy
        ? [stack.resolve(cfn.policyDocument)]
        : ((stack.resolve(cfn.policies) ?? []) as { policyDocument: unknown }[]).map((p) => p.policyDocument);
    const grants = wildcardGrantsFor(cfn as IConstruct);
    for (const doc of documents)
      for (const st of (doc as { Statement: Record<string, unknown>[] }).Statement) {
        if (st.Effect !== 'Allow') continue;
        const actions = [st.Action].flat() as string[];
        const resources = [st.Resource].flat().map(render);
        const policy = cfn.node.path;
        for (const a of actions.filter(isWild))
          if (!grants.some((g) => g.actions.includes(a)))
            out.push({ policy, actions, wildcard: `Action::${a}` });
        for (const r of resources.filter(isWild))
          if (
            !grants.some(
              (g) =>
                actions.every((a) => g.actions.includes(a)) &&
                (g.resources ?? []).some((p) => new RegExp(`^${p.source}$`).test(r)),
            )
          )
            out.push({ policy, actions, wildcard: `Resource::${r}` });
      }
  }
  return out;
}

/** Every statement of the inline and the overflow (managed) policies CDK writes for the roles. */
const statements = (template: Template) =>
  Object.entries({
    ...template.findResources('AWS::IAM::Policy'),
    ...template.findResources('AWS::IAM::ManagedPolicy'),
  }).flatMap(([id, p]) =>
    (p.Properties.PolicyDocument.Statement as Record<string, unknown>[]).map((s) => ({
      id,
      roles: ((p.Properties.Roles ?? []) as { Ref: string }[]).map((r) => r.Ref),
      actions: [s.Action].flat() as string[],
      resources: [s.Resource].flat(),
      condition: s.Condition,
    })),
  );

const nagFindings = (stack: Stack) =>
  [
    ...Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
    ...Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')),
  ].map((f) => `${f.id}: ${String(f.entry.data).slice(0, 160)}`);

let full: { stack: MarginGuardStack; template: Template };
let plain: { stack: MarginGuardStack; template: Template };
// One synth a hook: each blocks the worker for seconds on a busy machine.
beforeAll(() => {
  full = synth(FULL);
}, 120_000);
beforeAll(() => {
  plain = synth({ stage: 'prod' });
}, 120_000);

describe('wildcards', () => {
  it('every wildcard action and resource is granted on its own role, with a reason', () => {
    expect(ungrantedWildcards(full.stack)).toEqual([]);
    expect(ungrantedWildcards(plain.stack)).toEqual([]);
    for (const c of full.stack.node.findAll())
      for (const g of wildcardGrantsFor(c)) expect(g.reason.length).toBeGreaterThan(30);
  });

  // cdk-nag would not see the first: the ladder's policy has a granted `*` (dynamodb:ListStreams), and an
  // IAM5 suppression covers a whole policy.
  it('fails on a new wildcard nobody granted, even where cdk-nag already suppresses one on that policy', () => {
    const rogue = synth(
      FULL,
      (stack) => {
        stack.paging.steps.role.addToPrincipalPolicy(
          new PolicyStatement({ actions: ['sns:Publish'], resources: ['*'] }),
        );
        stack.storage.tables.accounts.grant(stack.evaluation.functions.sweep.role, 'dynamodb:*');
      },
      { nag: false },
    );
    expect(ungrantedWildcards(rogue.stack)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          policy: expect.stringContaining('Paging/Ladder/Role'),
          wildcard: 'Resource::*',
          actions: ['sns:Publish'],
        }),
        expect.objectContaining({
          policy: expect.stringContaining('Evaluation/Sweep/Role'),
          wildcard: 'Action::dynamodb:*',
        }),
      ]),
    );
  });

  it('no stack-wide suppression (each is on its resource, with its reason); cdk-nag clean with every channel configured', () => {
    for (const { template } of [full, plain]) expect(template.toJSON().Metadata?.cdk_nag).toBeUndefined();
    expect(nagFindings(full.stack)).toEqual([]);
    expect(nagFindings(plain.stack)).toEqual([]);
  });
});

describe('SNS and SES', () => {
  it('sns:Publish only on the project topics; to phone numbers (*) only from the SMS function', () => {
    const topics = Object.keys(full.template.findResources('AWS::SNS::Topic'));
    const publish = statements(full.template).filter((s) => s.actions.some((a) => a.startsWith('sns:')));
    expect(publish.every((s) => s.actions.every((a) => a === 'sns:Publish'))).toBe(true);
    const anywhere = publish.filter((s) => s.resources.includes('*'));
    expect(anywhere).toHaveLength(1);
    expect(anywhere[0]!.roles).toEqual([expect.stringMatching(/^PagingSmsRole/)]);
    for (const s of publish.filter((p) => !p.resources.includes('*')))
      for (const r of s.resources) expect(topics).toContain((r as { Ref: string }).Ref);
    // The SMS function's role holds nothing else but its own log group.
    const smsPolicy = statements(full.template).filter((s) =>
      s.roles.some((r) => r.startsWith('PagingSmsRole')),
    );
    expect(smsPolicy.flatMap((s) => s.actions).filter((a) => !a.startsWith('logs:'))).toEqual([
      'sns:Publish',
    ]);
  });

  it('every dispatcher may invoke the SMS function (that function only, no versions) and is told its name', () => {
    const smsFn = Object.keys(full.template.findResources('AWS::Lambda::Function')).find((id) =>
      id.startsWith('PagingSmsFunction'),
    )!;
    const invokers = statements(full.template).filter((s) => s.actions.includes('lambda:InvokeFunction'));
    const smsInvokers = invokers.filter((s) => JSON.stringify(s.resources).includes(smsFn));
    const roles = smsInvokers.flatMap((s) => s.roles).map((r) => r.replace(/[0-9A-F]{8}$/, ''));
    expect(roles.sort()).toEqual([
      'ApiHandlerRole',
      'BrokerFeedbackRole',
      'EscalationStepsRole',
      'PagingLadderRole',
    ]);
    for (const s of smsInvokers) expect(s.resources).toEqual([{ 'Fn::GetAtt': [smsFn, 'Arn'] }]);
    const fns = full.template.findResources('AWS::Lambda::Function');
    for (const [id, f] of Object.entries(fns))
      if (/^(ApiHandler|BrokerFeedback|EscalationSteps|PagingLadder)Function/.test(id))
        expect(f.Properties.Environment.Variables.SMS_FUNCTION_NAME).toEqual({ Ref: smsFn });
  });

  it('ses:SendEmail only on the sender’s identities and only from the sender; none without a sender', () => {
    const ses = statements(full.template).filter((s) => s.actions.some((a) => a.startsWith('ses:')));
    expect(ses.length).toBe(4);
    for (const s of ses) {
      expect(s.actions).toEqual(['ses:SendEmail']);
      expect(s.resources.map(render)).toEqual([
        'arn:<AWS::Partition>:ses:eu-west-1:123456789012:identity/alerts@broker.example',
        'arn:<AWS::Partition>:ses:eu-west-1:123456789012:identity/broker.example',
      ]);
      expect(s.condition).toEqual({ StringEquals: { 'ses:FromAddress': 'alerts@broker.example' } });
    }
    const own = synth({ ...FULL, notificationSenderIdentities: '["alerts.broker.example"]' }, undefined, {
      nag: false,
    });
    for (const s of statements(own.template).filter((x) => x.actions.includes('ses:SendEmail')))
      expect(s.resources.map(render)).toEqual([
        'arn:<AWS::Partition>:ses:eu-west-1:123456789012:identity/alerts.broker.example',
      ]);
    expect(statements(plain.template).filter((s) => s.actions.some((a) => a.startsWith('ses:')))).toEqual([]);
    expect(() => readDeployConfig({ notificationSenderIdentities: ['not a domain'] })).toThrow(
      /context\.notificationSenderIdentities/,
    );
  });
});

describe('contacts are not in the template', () => {
  it('no function carries a notification policy; a policy in the context is refused, pointing at the secret', () => {
    for (const { template } of [full, plain])
      for (const f of Object.values(template.findResources('AWS::Lambda::Function')))
        expect(Object.keys(f.Properties.Environment?.Variables ?? {})).not.toContain('NOTIFICATION_POLICY');
    expect(() =>
      readDeployConfig({
        notificationPolicy: { routes: [{ name: 'desk', channel: 'sms', phoneNumber: '+447700900123' }] },
      }),
    ).toThrow(/context\.notificationPolicy.*notificationPolicySecretName/s);
  });

  it('the default policy is a secret the dispatchers read by name', () => {
    const fns = full.template.findResources('AWS::Lambda::Function');
    const named = Object.entries(fns)
      .filter(([, f]) => f.Properties.Environment?.Variables?.NOTIFICATION_POLICY_SECRET_NAME)
      .map(([id]) => id.replace(/Function[0-9A-F]{8}$/, ''));
    expect(named.sort()).toEqual([
      'ApiHandler',
      'ApiSummary',
      'BrokerFeedback',
      'EscalationSteps',
      'PagingLadder',
    ]);
    const reads = statements(full.template).filter(
      (s) =>
        s.actions.includes('secretsmanager:GetSecretValue') &&
        JSON.stringify(s.resources).includes('secret:mg/notification-policy-??????'),
    );
    expect(
      reads
        .flatMap((s) => s.roles)
        .map((r) => r.replace(/[0-9A-F]{8}$/, ''))
        .sort(),
    ).toEqual(['ApiHandlerRole', 'BrokerFeedbackRole', 'EscalationStepsRole', 'PagingLadderRole']);
  });
});
