import { Stack, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { DeployConfig } from './config.ts';
import { Alerts } from './constructs/alerts.ts';
import { Api } from './constructs/api.ts';
import { Escalation } from './constructs/escalation.ts';
import { Evaluation } from './constructs/evaluation.ts';
import { RiskEventBus } from './constructs/event-bus.ts';
import { Observability } from './constructs/observability.ts';
import { Storage } from './constructs/storage.ts';
import { applyNagSuppressions } from './nag-suppressions.ts';

/** The whole system in one stack, composed of one construct per capability. */
export class MarginGuardStack extends Stack {
  readonly storage: Storage;
  readonly events: RiskEventBus;
  readonly evaluation: Evaluation;
  readonly observability: Observability;
  readonly alerts: Alerts;
  readonly escalation: Escalation;
  readonly api: Api;

  constructor(scope: Construct, id: string, config: DeployConfig, props?: StackProps) {
    super(scope, id, props);
    this.storage = new Storage(this, 'Storage', config);
    this.events = new RiskEventBus(this, 'Events', config.stage);
    this.evaluation = new Evaluation(this, 'Evaluation', {
      config,
      tables: this.storage.tables,
      bus: this.events.bus,
      key: this.storage.key,
    });
    this.alerts = new Alerts(this, 'Alerts', {
      stage: config.stage,
      key: this.storage.key,
      alertSubscriptions: config.alertSubscriptions,
      pageSubscriptions: config.pageSubscriptions,
      webhookSecretName: config.webhookSecretName,
      logRetentionDays: config.logRetentionDays,
      deadLetterQueue: this.evaluation.deadLetterQueue,
    });
    const environment = this.evaluation.environment;
    this.escalation = new Escalation(this, 'Escalation', {
      config,
      tables: this.storage.tables,
      bus: this.events.bus,
      key: this.storage.key,
      alerts: this.alerts.alerts,
      pages: this.alerts.pages,
      evaluationEnvironment: environment,
      deadLetterQueue: this.evaluation.deadLetterQueue,
    });
    this.api = new Api(this, 'Api', {
      config,
      tables: this.storage.tables,
      bus: this.events.bus,
      environment,
    });
    const fns = this.evaluation.functions;
    this.observability = new Observability(this, 'Observability', {
      stage: config.stage,
      key: this.storage.key,
      alarmEmail: config.alarmEmail,
      streamFunctions: [fns.positionStream, fns.priceStream],
      functions: [...Object.values(fns), this.escalation.steps, this.escalation.starter, this.api.handler],
      deadLetterQueues: [
        this.evaluation.deadLetterQueue,
        this.evaluation.workDeadLetterQueue,
        this.escalation.startDeadLetterQueue,
      ],
      workQueue: this.evaluation.workQueue,
      stateMachine: this.escalation.stateMachine,
    });
    applyNagSuppressions(this);
  }
}
