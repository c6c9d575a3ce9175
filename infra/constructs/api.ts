import { Duration } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RequestValidator,
  RestApi,
  type IResource,
} from 'aws-cdk-lib/aws-apigateway';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ROUTES } from '../../functions/api/routes.ts';
import type { DeployConfig } from '../config.ts';
import type { TableKey } from '../../functions/lib/table-definitions.ts';
import { MarginGuardFunction } from './lambda-function.ts';
import { grantBandIndex } from './storage.ts';

/** The REST API: IAM-authenticated (SigV4) on every method, one thin Lambda behind all routes. */
export class Api extends Construct {
  readonly api: RestApi;
  readonly handler: MarginGuardFunction;
  /** Recomputes the all-accounts summary that GET /summary serves. */
  readonly summary: MarginGuardFunction;

  constructor(
    scope: Construct,
    id: string,
    props: {
      config: DeployConfig;
      tables: Record<TableKey, ITable>;
      bus: IEventBus;
      environment: Record<string, string>;
      /** The guard-band index's tables, `tables.bands` first (default: just `tables.bands`). */
      bandTables?: readonly ITable[];
    },
  ) {
    super(scope, id);
    const { tables } = props;
    this.handler = new MarginGuardFunction(this, 'Handler', {
      name: 'api',
      description: 'Margin Guard REST API',
      environment: { ...props.environment, STAGE: props.config.stage },
      timeout: Duration.seconds(29),
      logRetentionDays: props.config.logRetentionDays,
    });
    const role = this.handler.role;
    for (const t of ['positions', 'prices', 'riskState', 'riskHistory', 'settings'] as const)
      tables[t].grantReadData(role);
    grantBandIndex(props.bandTables ?? [tables.bands], role, 'read');
    tables.accounts.grantReadWriteData(role);
    // The ingestion routes (PUT /accounts/{id}/positions…, POST /prices) write books and prices.
    tables.positions.grantWriteData(role);
    tables.prices.grantWriteData(role);
    tables.actions.grantReadWriteData(role);
    tables.settings.grantWriteData(role);
    props.bus.grantPutEventsTo(role);

    this.summary = new MarginGuardFunction(this, 'Summary', {
      name: 'summary',
      description: 'Counts and totals over the overview index, for GET /summary',
      environment: props.environment,
      timeout: Duration.minutes(5),
      logRetentionDays: props.config.logRetentionDays,
    });
    tables.riskState.grantReadData(this.summary.role);
    tables.actions.grantReadData(this.summary.role);
    tables.settings.grantWriteData(this.summary.role);
    new Rule(this, 'SummarySchedule', {
      description: `Recomputes the all-accounts summary every ${props.config.summaryRateMinutes} minute(s)`,
      schedule: Schedule.rate(Duration.minutes(props.config.summaryRateMinutes)),
      targets: [new LambdaFunction(this.summary.fn, { retryAttempts: 1, maxEventAge: Duration.minutes(5) })],
    });

    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.ONE_MONTH });
    this.api = new RestApi(this, 'RestApi', {
      restApiName: `margin-guard-${props.config.stage}`,
      description: 'Risk status, margin, thresholds, history, manual actions, configuration',
      cloudWatchRole: true,
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
      deployOptions: {
        stageName: props.config.stage,
        loggingLevel: MethodLoggingLevel.INFO,
        dataTraceEnabled: false,
        tracingEnabled: true,
        metricsEnabled: true,
        throttlingRateLimit: 100,
        throttlingBurstLimit: 200,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
      },
    });
    const integration = new LambdaIntegration(this.handler.fn);
    // API Gateway rejects a call missing its path parameters; bodies are validated by zod in the handler,
    // which names every bad field in the 400.
    const requestValidator = new RequestValidator(this, 'Validator', {
      restApi: this.api,
      validateRequestParameters: true,
      validateRequestBody: true,
    });
    const resources = new Map<string, IResource>([['', this.api.root]]);
    const resourceFor = (path: string): IResource => {
      const existing = resources.get(path);
      if (existing) return existing;
      const parent = resourceFor(path.slice(0, path.lastIndexOf('/')));
      const created = parent.addResource(path.slice(path.lastIndexOf('/') + 1));
      resources.set(path, created);
      return created;
    };
    for (const r of ROUTES) {
      resourceFor(r.path).addMethod(r.method, integration, {
        // A public route (the one-click ack link) proves itself with a signed, expiring token.
        ...(r.public ? { authorizationType: AuthorizationType.NONE } : {}),
        requestValidator,
        requestParameters: r.path.includes('{id}') ? { 'method.request.path.id': true } : undefined,
      });
    }
  }
}
