import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

export interface TelemetryOptions {
  service: string;
  version: string;
  instanceId?: string;
  /** OTLP/HTTP base URL (e.g. http://127.0.0.1:4318); traces go to `${endpoint}/v1/traces`. */
  otlpEndpoint?: string;
  /** Extra exporter, e.g. an InMemorySpanExporter in tests; spans are exported as they end. */
  exporter?: SpanExporter;
}

export interface Telemetry {
  tracer: Tracer;
  /** Exports buffered spans now; call before reading an in-memory exporter. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry SDK once per process. With no endpoint and no exporter it still
 * installs the context manager and W3C propagator, so trace context crosses queues and logs
 * carry trace ids even when nothing is exported.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  const processors: SpanProcessor[] = [];
  if (options.otlpEndpoint !== undefined) {
    const url = `${options.otlpEndpoint.replace(/\/$/, '')}/v1/traces`;
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url })));
  }
  if (options.exporter !== undefined) processors.push(new SimpleSpanProcessor(options.exporter));

  const attributes: Record<string, string> = {
    [ATTR_SERVICE_NAME]: options.service,
    [ATTR_SERVICE_VERSION]: options.version,
  };
  if (options.instanceId !== undefined) attributes['service.instance.id'] = options.instanceId;

  const sdk = new NodeSDK({
    resource: resourceFromAttributes(attributes),
    spanProcessors: processors,
    textMapPropagator: new W3CTraceContextPropagator(),
    // Auto-instrumentations are not loaded: spans come from our code and bullmq-otel.
    instrumentations: [],
  });
  sdk.start();

  return {
    tracer: trace.getTracer(options.service, options.version),
    async flush() {
      await Promise.all(processors.map((p) => p.forceFlush()));
    },
    async shutdown() {
      await sdk.shutdown();
    },
  };
}

/** Serialises the active context into a carrier (W3C `traceparent`), for hops the SDK cannot see. */
export function injectTraceContext(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** Runs `fn` in the context carried by `carrier`. */
export function withExtractedContext<T>(carrier: Record<string, string>, fn: () => T): T {
  return context.with(propagation.extract(context.active(), carrier), fn);
}
