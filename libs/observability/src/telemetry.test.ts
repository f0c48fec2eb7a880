import { Writable } from 'node:stream';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, injectTraceContext, startTelemetry, withExtractedContext } from './index.js';

const exporter = new InMemorySpanExporter();
const telemetry = startTelemetry({ service: 'svc', version: '1.0.0', exporter });
afterAll(() => telemetry.shutdown());

describe('telemetry', () => {
  it('when a span is active, then log lines carry its trace and span ids', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _e, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const logger = createLogger({ service: 'svc', version: '1', destination });
    const ids = telemetry.tracer.startActiveSpan('work', (span) => {
      logger.info('inside');
      span.end();
      return span.spanContext();
    });
    logger.info('outside');
    const [inside, outside] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(inside).toMatchObject({ trace_id: ids.traceId, span_id: ids.spanId });
    expect(outside).not.toHaveProperty('trace_id');
  });

  it('when context is injected and extracted, then a child span joins the same trace', async () => {
    const carrier = telemetry.tracer.startActiveSpan('producer', (span) => {
      const c = injectTraceContext();
      span.end();
      return c;
    });
    expect(carrier.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    withExtractedContext(carrier, () =>
      telemetry.tracer.startActiveSpan('consumer', (s) => s.end()),
    );
    await telemetry.flush();
    const spans = exporter.getFinishedSpans();
    const producer = spans.find((s) => s.name === 'producer')!;
    const consumer = spans.find((s) => s.name === 'consumer')!;
    expect(consumer.spanContext().traceId).toBe(producer.spanContext().traceId);
    expect(consumer.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
  });
});
