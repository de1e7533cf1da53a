/**
 * Latency histogram bounds in seconds. A latency SLO's threshold must be one of them, so that
 * PromQL over vigil_request_duration_seconds_bucket computes the same SLI as the engine.
 */
export const DURATION_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];
