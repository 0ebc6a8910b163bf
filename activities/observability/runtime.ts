/**
 * The Temporal runtime of the worker process, with its Prometheus exporter (issue #9). **Call before any
 * NativeConnection or Worker is created** (activities/worker.ts does, first thing): the runtime is a process-wide
 * singleton that the first connection would otherwise create with default (no-export) telemetry.
 *
 * With WORKER_METRICS_BIND=host:port the runtime serves Prometheus text at `http://host:port/metrics`: the SDK's own
 * metrics (workflow task latency `temporal_workflow_task_execution_latency_seconds`, schedule-to-start latencies,
 * sticky cache, polls, activity latencies, …) and the Waihu call metrics pushed through its metric meter
 * (worker-metrics.ts). Unset: nothing is exported and the meter is a no-op.
 */
import type { MetricMeter } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';
import type { Config } from '../../config/config';
import type { Logger } from '../logger';

export function installRuntime(config: Config, logger: Logger): void {
  const bindAddress = config.observability.workerMetricsBind;
  if (!bindAddress) return;
  Runtime.install({
    telemetryOptions: {
      metrics: { prometheus: { bindAddress, useSecondsForDurations: true } },
    },
  });
  logger.info({ metrics: `http://${bindAddress}/metrics` }, 'worker metrics exported');
}

/** The runtime's meter (created on first use; a no-op meter without an exporter). */
export const runtimeMeter = (): MetricMeter => Runtime.instance().metricMeter;
