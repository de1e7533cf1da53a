import type { ConsoleRuntime } from '../../lib/api-types';
import { formatMs, formatTime } from '../../lib/format';

/** A trace id links to the tracing UI when vigil knows its URL template; plain text otherwise. */
function TraceId({ id, template }: { id: string; template: string | null }) {
  if (!template || !/^https?:\/\//.test(template)) return <code>{id}</code>;
  return (
    <a href={template.replaceAll('{trace_id}', encodeURIComponent(id))} target="_blank" rel="noopener noreferrer">
      <code>{id}</code>
    </a>
  );
}

/** The latest sampled requests, newest first. */
export function TracesTable({ runtime, timeZone }: { runtime: ConsoleRuntime; timeZone: string }) {
  if (runtime.traces.length === 0)
    return (
      <p className="empty">
        No sampled requests yet. Requests are listed here when OpenTelemetry tracing samples them
        (OTEL_EXPORTER_OTLP_ENDPOINT).
      </p>
    );
  return (
    <>
      {runtime.trace_url_template === null && (
        <p className="muted">No trace UI is configured, so trace ids are not links.</p>
      )}
      <table>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Deployment</th>
            <th scope="col">Version</th>
            <th scope="col">Status</th>
            <th scope="col">Duration</th>
            <th scope="col">Trace</th>
          </tr>
        </thead>
        <tbody>
          {runtime.traces.map((t) => (
            <tr key={`${t.trace_id}-${t.at}`} className={t.status >= 500 ? 'hot' : undefined}>
              <td>{formatTime(t.at, timeZone)}</td>
              <td>{t.deployment}</td>
              <td>{t.version}</td>
              <td>{t.status}</td>
              <td>{formatMs(t.duration_ms)}</td>
              <td>
                <TraceId id={t.trace_id} template={runtime.trace_url_template} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** Model loads per version: how many, how long on average, and how many were cold starts. */
export function ModelLoads({ loads }: { loads: ConsoleRuntime['model_loads'] }) {
  if (loads.length === 0) return <p className="empty">No model has been loaded yet.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Deployment</th>
          <th scope="col">Version</th>
          <th scope="col">Loads</th>
          <th scope="col">Mean load time</th>
          <th scope="col">Cold starts</th>
        </tr>
      </thead>
      <tbody>
        {loads.map((l) => (
          <tr key={`${l.deployment}/${l.version}`}>
            <td>{l.deployment}</td>
            <td>{l.version}</td>
            <td>{l.count}</td>
            <td>{l.mean_seconds === null ? 'no data' : formatMs(l.mean_seconds * 1000)}</td>
            <td>{l.cold_starts}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
