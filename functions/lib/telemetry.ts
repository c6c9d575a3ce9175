/** The counters the evaluator keeps; Powertools Metrics in Lambda, a plain tally in tests and local mode. */
export interface Telemetry {
  count(name: string, value?: number): void;
}

export class Tally implements Telemetry {
  readonly counts = new Map<string, number>();

  count(name: string, value = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + value);
  }
}
