/**
 * OpenTelemetry for Magasin services.
 *
 * `startTelemetry` starts the Node SDK exporting spans over OTLP/HTTP when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` is set; without it nothing is started and the API stays
 * the no-op default, so tracing costs nothing. Tests pass their own span processor (an
 * in-memory exporter) to trace through real services without a collector.
 *
 * Trace context travels in message headers as W3C `traceparent` / `tracestate`:
 * `injectTraceContext` writes the active context into a carrier and `extractTraceContext`
 * reads one back, whatever SDK is (or is not) running.
 */
import {
  type Context,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

export type { Context, Span } from '@opentelemetry/api';
export { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

/** A message-header carrier: AMQP headers, HTTP headers, an envelope field. */
export type Carrier = Record<string, unknown>;

// W3C propagation is used explicitly rather than through the global propagator, so that
// headers are written the same way whether or not an SDK registered one.
const propagator = new W3CTraceContextPropagator();

const getter: TextMapGetter<Carrier> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    if (typeof value === 'string') return value;
    if (Buffer.isBuffer(value)) return value.toString('utf8');
    return undefined;
  },
};

/** Writes the trace context of `ctx` (default: the active one) into `carrier` and returns it. */
export const injectTraceContext = <C extends Carrier>(carrier: C, ctx: Context = context.active()): C => {
  propagator.inject(ctx, carrier, {
    set: (target, key, value) => {
      (target as Carrier)[key] = value;
    },
  });
  return carrier;
};

/** The context a carrier's `traceparent` describes, on top of `base` (default: the active one). */
export const extractTraceContext = (
  carrier: Carrier | undefined,
  base: Context = context.active(),
): Context => (carrier ? propagator.extract(base, carrier, getter) : base);

/** The `traceparent` of the active span, or `undefined` when nothing is being traced. */
export const currentTraceparent = (): string | undefined => {
  const carrier = injectTraceContext({} as Carrier);
  return typeof carrier.traceparent === 'string' ? carrier.traceparent : undefined;
};

/** The trace id of the active span, or `undefined` (used by the logger). */
export const currentTraceId = (): string | undefined => {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
};

/** The tracer of a Magasin component. */
export const tracer = (name: string) => trace.getTracer(`magasin.${name}`);

/**
 * Runs `fn` inside a new active span; the span records an exception and an error status
 * when `fn` throws, and always ends.
 */
export const withSpan = async <T>(
  tracerName: string,
  spanName: string,
  options: { kind?: SpanKind; attributes?: Record<string, string | number | boolean>; parent?: Context },
  fn: (span: Span) => Promise<T>,
): Promise<T> => {
  const parent = options.parent ?? context.active();
  return tracer(tracerName).startActiveSpan(
    spanName,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes ?? {} },
    parent,
    async (span) => {
      try {
        return await fn(span);
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        throw error;
      } finally {
        span.end();
      }
    },
  );
};

export interface TelemetryOptions {
  /** `service.name` of the resource. */
  serviceName: string;
  /** OTLP endpoint; default `OTEL_EXPORTER_OTLP_ENDPOINT`. Without one and without `spanProcessors`, nothing starts. */
  otlpEndpoint?: string;
  /** Extra span processors (tests: a `SimpleSpanProcessor` over an `InMemorySpanExporter`). */
  spanProcessors?: SpanProcessor[];
}

export interface Telemetry {
  /** Whether an SDK is running (false: the no-op API, no cost). */
  readonly enabled: boolean;
  /** Flushes pending spans and stops the SDK. */
  shutdown(): Promise<void>;
}

/** The SDKs started in this process, flushed by {@link shutdownTelemetry}. */
const started = new Set<Telemetry>();

/**
 * Flushes the spans not yet exported and stops every SDK this process started (a service's
 * graceful shutdown calls it before exiting, so the spans of its last seconds are not lost).
 */
export const shutdownTelemetry = async (): Promise<void> => {
  const running = [...started];
  started.clear();
  await Promise.all(running.map((telemetry) => telemetry.shutdown()));
};

/** Starts tracing for a service when an endpoint or span processors are given; else a no-op. */
export const startTelemetry = (options: TelemetryOptions): Telemetry => {
  const endpoint = options.otlpEndpoint ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (endpoint) {
    const url = new URL('v1/traces', endpoint.endsWith('/') ? endpoint : `${endpoint}/`).toString();
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url })));
  }
  if (processors.length === 0) return { enabled: false, shutdown: async () => undefined };
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }),
    spanProcessors: processors,
    textMapPropagator: propagator,
    instrumentations: [],
  });
  sdk.start();
  let stopping: Promise<void> | undefined;
  const telemetry: Telemetry = {
    enabled: true,
    shutdown: () => {
      started.delete(telemetry);
      stopping ??= sdk.shutdown();
      return stopping;
    },
  };
  started.add(telemetry);
  return telemetry;
};
