import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { startTelemetry, type Telemetry } from '@wacrm/observability';

export interface TestTelemetry extends Telemetry {
  exporter: InMemorySpanExporter;
  /** Flushes, then returns every finished span. */
  spans(): Promise<ReadableSpan[]>;
}

/** The production SDK set-up with an in-memory exporter (one per test file: OTel is global). */
export function useTestTelemetry(service = 'test'): TestTelemetry {
  const exporter = new InMemorySpanExporter();
  const telemetry = startTelemetry({ service, version: '0.0.0-test', exporter });
  return {
    ...telemetry,
    exporter,
    async spans() {
      await telemetry.flush();
      return exporter.getFinishedSpans();
    },
  };
}
