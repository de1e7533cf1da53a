/**
 * Marks a request as a probe's (serving/probes/prober.ts): its value is the node's secret, handed
 * to the ingress processes at fork, so no client can hide its own traffic from the SLIs with it.
 */
export const PROBE_HEADER = 'x-vigil-probe';
/** The probe's name, for the span. */
export const PROBE_NAME_HEADER = 'x-vigil-probe-name';
