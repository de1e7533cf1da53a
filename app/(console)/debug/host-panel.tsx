import type { NodeStatus } from '../../lib/api-types';
import { formatMiB } from '../../lib/format';

const pct = (r: number | null) => (r === null ? 'not available' : `${Math.round(r * 1000) / 10}%`);

/**
 * The machine the node serving the page runs on: what it is, its heat and pressure now, the
 * sensors it lacks, and whether they hold replica growth (the heat cap).
 */
export function HostPanel({ host }: { host: NodeStatus['host'] }) {
  const h = host.hardware;
  const s = host.signals;
  return (
    <dl className="inline-dl" data-testid="host">
      <dt>Machine</dt>
      <dd>
        {h.cpuModel} · {h.logicalCores} logical / {h.physicalCores ?? '?'} physical cores
        {h.performanceCores !== null ? ` (${h.performanceCores} P + ${h.efficiencyCores ?? 0} E)` : ''} · {h.os}{' '}
        {h.arch} · {formatMiB(h.memoryBytes)}
        {h.unifiedMemory ? ' unified' : ''}
      </dd>
      <dt>Container</dt>
      <dd>
        CPU {h.cgroup.cpuLimit === null ? 'no limit' : h.cgroup.cpuLimit} · memory{' '}
        {h.cgroup.memoryLimitBytes === null ? 'no limit' : formatMiB(h.cgroup.memoryLimitBytes)} · vigil uses{' '}
        {h.usableCores} cores
      </dd>
      <dt>Heat</dt>
      <dd>
        {!s || s.thermalZones.length === 0
          ? 'no temperature sensor'
          : s.thermalZones.map((z) => `${z.type} ${z.celsius.toFixed(1)} °C`).join(' · ')}
        {s?.throttleRate ? ` · throttling ${s.throttleRate.toFixed(1)}/s` : ''}
      </dd>
      <dt>Pressure</dt>
      <dd>
        CPU {pct(s?.cpuPressure ?? null)} · memory {pct(s?.memoryPressure ?? null)}
      </dd>
      <dt>Replica growth</dt>
      <dd className={host.capped ? 'hot' : undefined}>
        {host.capped ? `held (${host.capped}): ${host.detail}` : 'not held'}
      </dd>
      {s && s.missing.length > 0 && (
        <>
          <dt>Missing sensors</dt>
          <dd className="muted">{s.missing.join('; ')}</dd>
        </>
      )}
    </dl>
  );
}
