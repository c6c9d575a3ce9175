import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CONTEXT_KEYS, readDeployConfig } from './config.ts';
import { MarginGuardStack } from './stack.ts';

const app = new App();
const context = Object.fromEntries(
  CONTEXT_KEYS.map((k) => [k, app.node.tryGetContext(k)]).filter(([, v]) => v !== undefined),
);
const config = readDeployConfig(context);
new MarginGuardStack(app, `MarginGuard-${config.stage}`, config, {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'Margin Guard: continuous margin monitoring and liquidation guard',
});
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
