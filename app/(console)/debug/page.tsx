import type { Metadata } from 'next';
import { ErrorPanel } from '../../components/error-panel';
import { PageHeader } from '../../components/page-header';
import { formatDuration, formatMiB, formatMs } from '../../lib/format';
import { readerTimeZone } from '../../lib/reader-time-zone';
import { requireSession } from '../../lib/session';
import { isDeploymentChange, mergeTimeline } from '../../lib/timeline';
import { apiGet } from '../../lib/vigil-api';
import { BatchSizes } from './batch-sizes';
import { HostPanel } from './host-panel';
import { NodesTable } from './nodes-table';
import { QueueTable, ReplicaTable } from './replica-table';
import { Timeline } from './timeline';
import { ModelLoads, TracesTable } from './traces-table';

export const metadata: Metadata = { title: 'Debug · vigil console' };

/** The nodes, and inside the node serving the page: replicas, queues, batching, model loads, traces and the change timeline. */
export default async function DebugPage() {
  const [, timeZone, runtime, audit, rollouts, cluster, status] = await Promise.all([
    requireSession(),
    readerTimeZone(),
    apiGet('getConsoleRuntime', {}),
    // The audit log holds logins and alert changes too; read further back, keep deployment changes.
    apiGet('listAudit', { query: { limit: 300 } }),
    apiGet('listRollouts', { query: { limit: 20 } }),
    apiGet('getCluster', {}),
    apiGet('getStatus', {}),
  ]);
  return (
    <>
      <PageHeader title="Debug" timeZone={timeZone} />
      {runtime.ok && (
        <p className="muted" data-testid="node-summary">
          Node: {runtime.data.node.ready ? 'ready' : 'not ready'}
          {runtime.data.node.draining ? ', draining' : ''} · up {formatDuration(runtime.data.node.uptime_seconds)} ·
          primary memory {formatMiB(runtime.data.node.rss_bytes)} · event-loop lag{' '}
          {formatMs(runtime.data.node.event_loop_lag_ms)}
        </p>
      )}

      <section aria-labelledby="nodes-h">
        <h2 id="nodes-h">Nodes</h2>
        {cluster.ok ? (
          <NodesTable cluster={cluster.data} timeZone={timeZone} />
        ) : (
          <ErrorPanel what="the nodes" failure={cluster} />
        )}
      </section>

      <section aria-labelledby="host-h">
        <h2 id="host-h">Machine{cluster.ok ? ` of ${cluster.data.node.name}` : ''}</h2>
        {status.ok ? <HostPanel host={status.data.host} /> : <ErrorPanel what="the machine" failure={status} />}
      </section>

      <section aria-labelledby="replicas-h">
        <h2 id="replicas-h">Replicas{cluster.ok ? ` on ${cluster.data.node.name}` : ''}</h2>
        {runtime.ok ? (
          <ReplicaTable runtime={runtime.data} timeZone={timeZone} />
        ) : (
          <ErrorPanel what="replicas" failure={runtime} />
        )}
      </section>

      <section aria-labelledby="queues-h">
        <h2 id="queues-h">Versions and queues</h2>
        {runtime.ok ? <QueueTable runtime={runtime.data} /> : <ErrorPanel what="queues" failure={runtime} />}
      </section>

      <section aria-labelledby="batches-h">
        <h2 id="batches-h">Batch sizes</h2>
        {runtime.ok ? (
          <BatchSizes batchSizes={runtime.data.batch_sizes} />
        ) : (
          <ErrorPanel what="batch sizes" failure={runtime} />
        )}
      </section>

      <section aria-labelledby="loads-h">
        <h2 id="loads-h">Model loads and cold starts</h2>
        {runtime.ok ? (
          <ModelLoads loads={runtime.data.model_loads} />
        ) : (
          <ErrorPanel what="model loads" failure={runtime} />
        )}
      </section>

      <section aria-labelledby="traces-h">
        <h2 id="traces-h">Recent traces</h2>
        {runtime.ok ? (
          <TracesTable runtime={runtime.data} timeZone={timeZone} />
        ) : (
          <ErrorPanel what="traces" failure={runtime} />
        )}
      </section>

      <section aria-labelledby="timeline-h">
        <h2 id="timeline-h">Deployment and rollout timeline</h2>
        {!audit.ok && <ErrorPanel what="the audit log" failure={audit} />}
        {!rollouts.ok && <ErrorPanel what="rollouts" failure={rollouts} />}
        {audit.ok || rollouts.ok ? (
          <Timeline
            events={mergeTimeline(
              audit.ok ? audit.data.entries.filter(isDeploymentChange).slice(0, 50) : [],
              rollouts.ok ? rollouts.data.rollouts : [],
            )}
            timeZone={timeZone}
          />
        ) : null}
      </section>
    </>
  );
}
