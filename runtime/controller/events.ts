// Events about the objects Potoo reads (a rejected rule-pack ConfigMap, an invalid
// ConstraintProfile): the same Event writer the notification sink uses, so repeats
// become one Event's series, but best effort: a failed write is a log line and a
// metric, never an error for the caller.
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { KubeClient } from '../kube/client.js';
import { EventSink, type EventSpec } from '../sinks/events.js';

export type { EventSpec };

export class EventRecorder {
  private readonly sink: EventSink;

  constructor(
    client: KubeClient,
    private readonly opts: { controller: string; instance: string; log: Logger; metrics?: Metrics },
  ) {
    this.sink = new EventSink({ client, reportingController: opts.controller, reportingInstance: opts.instance, log: opts.log });
  }

  async emit(ev: EventSpec): Promise<void> {
    try {
      await this.sink.emit(ev);
      this.opts.metrics?.eventsEmitted.inc({ reason: ev.reason, result: 'ok' });
    } catch (err) {
      this.opts.metrics?.eventsEmitted.inc({ reason: ev.reason, result: 'error' });
      const r = ev.regarding;
      this.opts.log.warn({ err: (err as Error).message, reason: ev.reason, regarding: `${r.kind}/${r.namespace ?? ''}/${r.name}` }, 'could not write Event');
    }
  }

  /** Write pending series counts (shutdown). */
  flush(): Promise<void> {
    return this.sink.flush();
  }

  stop(): void {
    this.sink.stop();
  }
}
