import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Runtime } from 'aws-cdk-lib/aws-lambda';
import type { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { allowWildcards, LIST_STREAMS, TABLE_GRANTS } from '../wildcard-grants.ts';

export interface MarginGuardFunctionProps {
  /** Folder under functions/ holding handler.ts. */
  readonly name: string;
  readonly description: string;
  readonly environment: Record<string, string>;
  /** @default Duration.seconds(60) */
  readonly timeout?: Duration;
  /** @default 1024 */
  readonly memorySize?: number;
  readonly logRetentionDays: number;
}

const ROOT = join(import.meta.dirname, '..', '..');

/**
 * A thin handler bundled by esbuild for Node 24 on arm64, with its own role (no managed policies: every
 * permission is granted explicitly) and its own log group with a retention. The only wildcards its role
 * may hold are those of the CDK table and key grants (infra/wildcard-grants.ts) and what is allowed on it.
 */
export class MarginGuardFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: MarginGuardFunctionProps) {
    super(scope, id);
    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.name} Lambda`,
    });
    logGroup.grantWrite(this.role);
    allowWildcards(this.role, ...TABLE_GRANTS);
    this.fn = new NodejsFunction(this, 'Function', {
      entry: join(ROOT, 'functions', props.name, 'handler.ts'),
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.seconds(60),
      role: this.role,
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      environment: {
        ...props.environment,
        POWERTOOLS_SERVICE_NAME: 'margin-guard',
        POWERTOOLS_METRICS_NAMESPACE: 'MarginGuard',
      },
      depsLockFilePath: join(ROOT, 'package-lock.json'),
      projectRoot: ROOT,
      bundling: { minify: true, sourceMap: true, target: 'node22', externalModules: ['@aws-sdk/*'] },
    });
  }

  /** A DynamoDB stream as an event source (and the dynamodb:ListStreams it needs, which takes no resource). */
  addStreamSource(source: DynamoEventSource): void {
    this.fn.addEventSource(source);
    allowWildcards(this.role, LIST_STREAMS);
  }
}
