/**
 * The worker's call metrics (issue #9), kept without touching the activities: an activity interceptor watches the
 * dial and turn activities go by and counts what they did. The worker has no HTTP server of its own, so the numbers
 * go out through the Temporal runtime's metric meter (`Runtime.instance().metricMeter`), which the runtime exports
 * on its own Prometheus endpoint beside the SDK's metrics (`temporal_workflow_task_execution_latency`, …) — one
 * scrape target per worker at WORKER_METRICS_BIND (see runtime.ts). Without that setting the meter is a no-op.
 *
 * What is counted, per worker process:
 * - `waihu_calls_total{tenant,result}`: finished calls by result code (placeCall that completed without a dialog,
 *   and endCall of an answered one);
 * - `waihu_calls_in_progress{tenant}` and `waihu_seats_in_use{tenant,task}`: calls between the dial and the end of
 *   the call (a call holds its AI seat exactly that long, give or take the grant and release signals);
 * - `waihu_dial_overhead_seconds`: from the workflow scheduling the dial to the originate (queueing to a media
 *   worker, the compliance re-check, line allocation), and `waihu_dial_deferred_total{reason}`.
 */
import type { Context } from '@temporalio/activity';
import type { MetricMeter } from '@temporalio/common';
import type { ActivityInterceptors, ActivityInterceptorsFactory } from '@temporalio/worker';
import type { AttemptOutcome, EndCallInput, PlaceCallInput, PlaceCallResult } from '../../workflows/definitions';

interface Instruments {
  calls: ReturnType<MetricMeter['createCounter']>;
  inProgress: ReturnType<MetricMeter['createGauge']>;
  seats: ReturnType<MetricMeter['createGauge']>;
  overhead: ReturnType<MetricMeter['createHistogram']>;
  deferred: ReturnType<MetricMeter['createCounter']>;
}

/** Live calls of this process by attempt id (a retried activity must not count a call twice). */
export class CallGauges {
  private readonly live = new Map<string, { tenant: string; task: string }>();

  start(attemptId: string, tenant: string, task: string): boolean {
    if (this.live.has(attemptId)) return false;
    this.live.set(attemptId, { tenant, task });
    return true;
  }

  end(attemptId: string): { tenant: string; task: string } | undefined {
    const c = this.live.get(attemptId);
    this.live.delete(attemptId);
    return c;
  }

  byTenant(tenant: string): number {
    return [...this.live.values()].filter((c) => c.tenant === tenant).length;
  }

  byTask(tenant: string, task: string): number {
    return [...this.live.values()].filter((c) => c.tenant === tenant && c.task === task).length;
  }
}

/** The interceptor factory for Worker.create({ interceptors: { activity: [...] } }). */
export function callMetricsInterceptor(meter: () => MetricMeter): ActivityInterceptorsFactory {
  let instruments: Instruments | undefined;
  const gauges = new CallGauges();
  const get = (): Instruments => {
    if (instruments) return instruments;
    const m = meter();
    instruments = {
      calls: m.createCounter('waihu_calls_total', 'calls', 'Finished calls by result code'),
      inProgress: m.createGauge('waihu_calls_in_progress', 'int', 'calls', 'Calls between dial and hang-up'),
      seats: m.createGauge('waihu_seats_in_use', 'int', 'seats', 'AI seats held by calls on this worker'),
      overhead: m.createHistogram(
        'waihu_dial_overhead_seconds',
        'float',
        's',
        'From the workflow scheduling the dial to the originate',
      ),
      deferred: m.createCounter('waihu_dial_deferred_total', 'dials', 'Dials that dialled nothing, by reason'),
    };
    return instruments;
  };
  const publish = (i: Instruments, tenant: string, task: string) => {
    i.inProgress.set(gauges.byTenant(tenant), { tenant });
    i.seats.set(gauges.byTask(tenant, task), { tenant, task });
  };
  const finished = (i: Instruments, attemptId: string, tenant: string, o: AttemptOutcome | undefined) => {
    const live = gauges.end(attemptId);
    if (o) i.calls.add(1, { tenant, result: o.code });
    if (live) publish(i, live.tenant, live.task);
  };

  return (ctx: Context): ActivityInterceptors => ({
    inbound: {
      execute: async (input, next) => {
        const type = ctx.info.activityType;
        if (type !== 'placeCall' && type !== 'endCall') return next(input);
        const i = get();
        if (type === 'placeCall') {
          const place = input.args[0] as PlaceCallInput;
          if (gauges.start(place.attemptId, place.tenantId, place.taskId)) publish(i, place.tenantId, place.taskId);
          let result: PlaceCallResult | undefined;
          try {
            result = (await next(input)) as PlaceCallResult;
            return result;
          } finally {
            const scheduled = ctx.info.scheduledTimestampMs;
            const dialledAt =
              result?.kind === 'completed'
                ? result.outcome.startedAt
                : result?.kind === 'answered'
                  ? result.startedAt
                  : '';
            if (dialledAt) i.overhead.record(Math.max(0, (Date.parse(dialledAt) - scheduled) / 1000));
            if (result?.kind === 'deferred' || result?.kind === 'window-closed' || result?.kind === 'blocked')
              i.deferred.add(1, { reason: result.kind === 'deferred' ? result.reason : result.kind });
            // An answered call goes on in the dialog: it is finished by endCall.
            if (result?.kind !== 'answered')
              finished(i, place.attemptId, place.tenantId, result?.kind === 'completed' ? result.outcome : undefined);
          }
        }
        const end = input.args[0] as EndCallInput;
        let outcome: AttemptOutcome | undefined;
        try {
          outcome = (await next(input)) as AttemptOutcome;
          return outcome;
        } finally {
          finished(i, end.place.attemptId, end.place.tenantId, outcome);
        }
      },
    },
  });
}
