import { z } from 'zod';
import { controlSchemas, timestamp } from './common.ts';
import { activeRollout } from './rollouts.ts';
import { route } from './route.ts';

/** One replica as /api/v1/status and the console's runtime view show it. */
export const replicaView = z
  .object({
    id: z.string(),
    slot: z.number().int(),
    state: z.string().describe('STARTING, RUNNING, DRAINING, STOPPED, ...'),
    pid: z.number().int().nullable(),
    ongoing: z.number().int(),
    sent: z.number().int(),
    succeeded: z.number().int(),
    provider: z.string(),
    rss_bytes: z.number().nullable(),
    heap_used_bytes: z.number().nullable(),
    cpu_seconds: z.number().nullable(),
    event_loop_lag_ms: z.number().nullable(),
    load_seconds: z.number().nullable(),
    started_at: timestamp.nullable(),
    models: z.array(z.string()).optional().describe('multiplexed deployments: the models it holds'),
  })
  .register(controlSchemas, { id: 'Replica' });

export const versionStatus = z
  .object({
    version: z.string(),
    model: z.string().nullable().describe('null for handler deployments'),
    weight: z.number(),
    state: z.enum(['active', 'retired']),
    target_replicas: z.number().int(),
    autoscaling: z
      .object({
        target: z.number().int(),
        desired: z.number().nullable(),
        reason: z.string().nullable(),
        capped_by: z
          .enum(['memory_budget', 'thermal', 'pressure'])
          .nullable()
          .describe('what held the count below desired'),
        cap_detail: z.string().nullable(),
        min: z.number().int(),
        max: z.number().int(),
      })
      .catchall(z.unknown())
      .nullable()
      .describe('the autoscaler’s last decision; null without autoscaling'),
    queued: z.number().int(),
    dispatched: z.number().int(),
    refusals: z.number().int(),
    provider: z.string().nullable(),
    fault_injection: z.object({ error_rate: z.number(), added_latency_ms: z.number() }),
    restarts: z.number().int(),
    crashLoop: z.boolean(),
    lastError: z.string().optional(),
    replicas: z.array(replicaView),
  })
  .register(controlSchemas, { id: 'VersionStatus' });

export const deploymentStatus = z
  .object({
    name: z.string(),
    split: z.array(z.object({ version: z.string(), weight: z.number() })),
    mirror: z
      .object({
        version: z.string(),
        percent: z.number(),
        tolerance: z.number(),
        compared: z.number().optional().describe('mirrored requests whose answers were compared'),
        agreed: z.number().optional(),
        rows: z.number().optional(),
        rowsAgreeing: z.number().optional(),
        errors: z.number().optional(),
        maxAbsDiff: z.number().nullable().optional(),
      })
      .nullable()
      .describe('the shadow version and how its answers compare with the primary’s'),
    rollout: activeRollout.nullable(),
    versions: z.array(versionStatus),
  })
  .register(controlSchemas, { id: 'DeploymentStatus' });

/** The machine (detected at start) and its heat and pressure (read every heat.interval_s). */
export const hostStatus = z
  .object({
    hardware: z.object({
      os: z.string(),
      osRelease: z.string(),
      arch: z.string(),
      cpuModel: z.string(),
      logicalCores: z.number().int(),
      physicalCores: z.number().int().nullable(),
      performanceCores: z.number().int().nullable(),
      efficiencyCores: z.number().int().nullable(),
      memoryBytes: z.number(),
      unifiedMemory: z.boolean(),
      cgroup: z.object({ cpuLimit: z.number().nullable(), memoryLimitBytes: z.number().nullable() }),
      usableCores: z.number().int(),
      notes: z.array(z.string()),
    }),
    signals: z
      .object({
        thermalZones: z.array(z.object({ zone: z.string(), type: z.string(), celsius: z.number() })),
        maxCelsius: z.number().nullable(),
        frequencyRatio: z.number().nullable(),
        throttleCount: z.number().nullable(),
        throttleRate: z.number().nullable(),
        osThrottled: z.boolean().nullable().describe('macOS: the OS holds the CPU back for heat'),
        cpuPressure: z.number().nullable(),
        memoryPressure: z.number().nullable(),
        missing: z.array(z.string()).describe('the sensors this machine lacks'),
      })
      .nullable(),
    capped: z.enum(['thermal', 'pressure']).nullable().describe('what holds replica growth now'),
    detail: z.string().nullable(),
  })
  .register(controlSchemas, { id: 'HostStatus' });

export const nodeStatus = z
  .object({
    ready: z.boolean(),
    draining: z.boolean(),
    uptime_seconds: z.number(),
    /**
     * Dedicated ingress processes (`pids`: alive now); `direct`: the replicas serve the port too;
     * `in_flight_requests`: inference requests accepted on the port and not answered yet, over
     * every process that takes HTTP (counted from the request's arrival, body upload included).
     */
    ingress: z.object({
      processes: z.number().int(),
      pids: z.array(z.number().int()),
      direct: z.boolean(),
      in_flight_requests: z.number().int().nonnegative(),
    }),
    host: hostStatus,
    deployments: z.array(deploymentStatus),
  })
  .register(controlSchemas, { id: 'NodeStatus' });
export type NodeStatus = z.infer<typeof nodeStatus>;
export type DeploymentStatus = z.infer<typeof deploymentStatus>;

const deploymentReport = z.object({
  name: z.string(),
  versions: z.array(
    z.object({
      version: z.string(),
      weight: z.number(),
      state: z.string(),
      target: z.number().int(),
      running: z.number().int(),
      starting: z.number().int(),
      queued: z.number().int(),
      ongoing: z.number().int(),
      provider: z.string().nullable(),
      mirror: z.object({ compared: z.number(), agreed: z.number() }).optional(),
    }),
  ),
});

/** What each node of a cluster reports about itself with its heartbeat. */
export const nodeReport = z
  .object({
    ready: z.boolean(),
    draining: z.boolean(),
    leader: z.boolean(),
    epoch: z.number().int(),
    uptime_seconds: z.number(),
    deployments: z.array(deploymentReport),
  })
  .register(controlSchemas, { id: 'NodeReport' });
export type NodeReport = z.infer<typeof nodeReport>;

export const clusterStatus = z
  .object({
    mode: z.enum(['shared', 'embedded']).describe('shared: nodes on one Postgres; embedded: PGlite, one node'),
    node: z.object({
      name: z.string(),
      instance: z.string(),
      leader: z.boolean(),
      epoch: z.number().int(),
      in_sync: z.boolean(),
    }),
    leader: z
      .object({
        instance: z.string().nullable(),
        epoch: z.number().int(),
        acquired_at: timestamp.nullable(),
        renewed_at: timestamp.nullable(),
      })
      .nullable(),
    nodes: z.array(
      z.object({
        name: z.string(),
        instance: z.string(),
        url: z.string(),
        started_at: timestamp,
        heartbeat_age_seconds: z.number().describe('by the database’s clock'),
        healthy: z.boolean().describe('heard from within cluster.node_timeout_s and not stopped'),
        stopped: z.boolean(),
        leader: z.boolean(),
        report: nodeReport.nullable(),
      }),
    ),
  })
  .register(controlSchemas, { id: 'ClusterStatus' });
export type ClusterStatus = z.infer<typeof clusterStatus>;

export const nodeRoutes = {
  getStatus: route({
    method: 'GET',
    path: '/api/v1/status',
    access: 'viewer',
    tag: 'node',
    summary: 'The node: readiness, ingress processes, deployments, versions and replicas',
    status: 200,
    response: nodeStatus,
  }),
  shutdown: route({
    method: 'POST',
    path: '/api/v1/shutdown',
    access: 'operator',
    tag: 'node',
    summary: 'Drain and stop the node',
    status: 202,
    response: z.object({ shutting_down: z.literal(true) }),
  }),
  getCluster: route({
    method: 'GET',
    path: '/api/v1/cluster',
    access: 'viewer',
    tag: 'node',
    summary: 'The nodes sharing this database, their health, and who leads',
    status: 200,
    response: clusterStatus,
  }),
};
