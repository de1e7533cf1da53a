import { propagation, trace, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace-node';
import type { VigilEnv } from '../config/env.ts';
import { VIGIL_VERSION } from './version.ts';

export interface Tracing {
  enabled: boolean;
  tracer: Tracer;
  /** Flushes buffered spans and stops exporting. */
  shutdown(): Promise<void>;
}

/** The sampler the standard OTEL_TRACES_SAMPLER / _ARG variables name; vigil defaults to parent-based 10%. */
export function samplerFromEnv(env: Pick<VigilEnv, 'OTEL_TRACES_SAMPLER' | 'OTEL_TRACES_SAMPLER_ARG'>): Sampler {
  const ratio = new TraceIdRatioBasedSampler(env.OTEL_TRACES_SAMPLER_ARG);
  switch (env.OTEL_TRACES_SAMPLER) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
  }
}

/**
 * Starts OpenTelemetry tracing for this process (the primary or a replica) when an OTLP endpoint
 * is configured: a batch span processor and the OTLP/HTTP exporter, which reads the standard
 * OTEL_EXPORTER_OTLP_* variables itself. Without an endpoint no provider is registered, the API
 * hands out no-op spans, and vigil exports nothing.
 */
export function startTracing(env: VigilEnv, role: 'primary' | 'ingress' | 'replica'): Tracing {
  const enabled = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  if (!enabled) {
    // Still read and echo an incoming traceparent, so a client's trace id comes back to it.
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    return { enabled, tracer: trace.getTracer('vigil', VIGIL_VERSION), shutdown: async () => {} };
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': env.OTEL_SERVICE_NAME,
      'service.version': VIGIL_VERSION,
      'vigil.process': role,
    }),
    sampler: samplerFromEnv(env),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 1000 })],
  });
  provider.register();
  return {
    enabled,
    tracer: provider.getTracer('vigil', VIGIL_VERSION),
    shutdown: () => provider.shutdown(),
  };
}
