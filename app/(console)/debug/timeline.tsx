import { formatTime } from '../../lib/format';
import type { TimelineEvent } from '../../lib/timeline';

/** Deployment changes and rollouts, newest first. */
export function Timeline({ events, timeZone }: { events: TimelineEvent[]; timeZone: string }) {
  if (events.length === 0) return <p className="empty">No changes recorded yet.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col">Source</th>
          <th scope="col">Actor</th>
          <th scope="col">What</th>
          <th scope="col">Target</th>
          <th scope="col">Detail</th>
        </tr>
      </thead>
      <tbody>
        {events.map((e) => (
          <tr key={e.key}>
            <td className="nowrap">{formatTime(e.at, timeZone)}</td>
            <td>{e.source}</td>
            <td>{e.actor || '—'}</td>
            <td>{e.what}</td>
            <td>{e.target}</td>
            <td className="detail">{e.detail}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
