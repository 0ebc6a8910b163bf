/**
 * OpenTelemetry tracing through the Temporal interceptors (@temporalio/interceptors-opentelemetry), **off by
 * default** (OTEL_TRACING=true turns it on). On: the worker gets the SDK's OpenTelemetry plugin, which adds the
 * activity interceptors (a span per activity execution, linked to the workflow's span through the headers) and the
 * workflow interceptors (spans for the workflow run, its activities, signals and timers, exported from the sandbox
 * through a sink), and spans go to OTEL_EXPORTER_OTLP_ENDPOINT (OTLP over HTTP, e.g. a collector or Jaeger).
 *
 * The workflow interceptors are added to the bundle the worker builds, so tracing works only where the worker
 * bundles from `workflowsPath` (production); a pre-built bundle (tests) is left as it is. Tracing adds headers
 * and sink calls, not commands: histories replay the same with it on or off.
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';
import type { WorkerOptions } from '@temporalio/worker';
import type { Config } from '../../config/config';

/** Worker options that turn tracing on (empty when OTEL_TRACING is off). */
export function tracingOptions(config: Config, serviceName = 'waihu-worker'): Pick<WorkerOptions, 'plugins'> {
  const t = config.observability.tracing;
  if (!t.enabled) return {};
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter({ url: t.endpoint }));
  const resource = new Resource({ 'service.name': serviceName });
  return { plugins: [new OpenTelemetryPlugin({ resource, spanProcessor })] };
}
