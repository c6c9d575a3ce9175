import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { readDeployConfig } from '../../infra/config.ts';
import { MarginGuardStack } from '../../infra/stack.ts';

/**
 * The REST API names the person behind a console request (functions/api/identity.ts): it is told the
 * console's user pool and may look users up in that pool only. Synthesized without bundling.
 */
let template: Template;
beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const stack: Stack = new MarginGuardStack(app, 'Identity', readDeployConfig({}), {
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  template = Template.fromStack(stack);
}, 120_000);

const poolRef = () => Object.keys(template.findResources('AWS::Cognito::UserPool'))[0]!;
const apiFunction = () =>
  Object.entries(template.findResources('AWS::Lambda::Function')).find(
    ([, f]) => f.Properties.Description === 'Margin Guard REST API',
  )!;

describe('operator identity on AWS', () => {
  it('the API function knows the console user pool', () => {
    const [, fn] = apiFunction();
    expect(fn.Properties.Environment.Variables.CONSOLE_USER_POOL_ID).toEqual({ Ref: poolRef() });
  });

  it('cognito-idp:ListUsers on that pool only, for the API role only, and no other Cognito user-pool action', () => {
    // A role's statements may overflow from its default policy into managed policies: both are read.
    const statements = ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].flatMap((type) =>
      Object.values(template.findResources(type)).flatMap((p) =>
        (p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]).map(
          (s) => ({
            roles: p.Properties.Roles,
            actions: ([] as string[]).concat(s.Action),
            resource: s.Resource,
          }),
        ),
      ),
    );
    const cognito = statements.filter((s) => s.actions.some((a) => a.startsWith('cognito-idp:')));
    expect(cognito).toHaveLength(1);
    expect(cognito[0]!.actions).toEqual(['cognito-idp:ListUsers']);
    expect(cognito[0]!.resource).toEqual({ 'Fn::GetAtt': [poolRef(), 'Arn'] });
    const [, fn] = apiFunction();
    expect(cognito[0]!.roles).toEqual([{ Ref: fn.Properties.Role['Fn::GetAtt'][0] }]);
  });
});
