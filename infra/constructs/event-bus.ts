import { Duration } from 'aws-cdk-lib';
import { Archive, EventBus } from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { EVENT_SOURCE } from '../../shared/events/schemas.ts';

/** The bus brokers' order systems subscribe to, with an archive so a consumer can replay what it missed. */
export class RiskEventBus extends Construct {
  readonly bus: EventBus;

  constructor(scope: Construct, id: string, stage: string) {
    super(scope, id);
    this.bus = new EventBus(this, 'Bus', { eventBusName: `margin-guard-${stage}` });
    new Archive(this, 'Archive', {
      sourceEventBus: this.bus,
      eventPattern: { source: [EVENT_SOURCE] },
      retention: Duration.days(30),
      description: 'All Margin Guard events, replayable for 30 days',
    });
  }
}
