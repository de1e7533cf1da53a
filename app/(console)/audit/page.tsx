import type { Metadata } from 'next';
import Link from 'next/link';
import { ErrorPanel } from '../../components/error-panel';
import { PageHeader } from '../../components/page-header';
import { compactJson, formatTime } from '../../lib/format';
import { readerTimeZone } from '../../lib/reader-time-zone';
import { requireSession } from '../../lib/session';
import { apiGet } from '../../lib/vigil-api';

export const metadata: Metadata = { title: 'Audit · vigil console' };

const FILTERS = ['actor', 'action', 'target'] as const;
const LIMIT = 200;

/** Who changed what, newest first, filtered by actor, action and target (?actor=&action=&target=). */
export default async function AuditPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const q = await searchParams;
  const filters = Object.fromEntries(FILTERS.map((k) => [k, typeof q[k] === 'string' ? q[k].trim() : ''])) as Record<
    (typeof FILTERS)[number],
    string
  >;
  const query = Object.fromEntries(FILTERS.filter((k) => filters[k]).map((k) => [k, filters[k]]));
  const [, timeZone, audit] = await Promise.all([
    requireSession(),
    readerTimeZone(),
    apiGet('listAudit', { query: { ...query, limit: LIMIT } }),
  ]);
  const filtered = FILTERS.some((k) => filters[k]);
  return (
    <>
      <PageHeader title="Audit log" timeZone={timeZone} />
      <form method="get" className="filters" aria-label="Filter the audit log">
        {FILTERS.map((k) => (
          <label key={k}>
            {k[0]!.toUpperCase() + k.slice(1)}{' '}
            <input
              name={k}
              defaultValue={filters[k]}
              placeholder={k === 'action' ? 'rollout.promote' : k === 'target' ? 'deployment/cls' : 'local'}
            />
          </label>
        ))}
        <button type="submit">Filter</button>
        {filtered && <Link href="/audit">Clear</Link>}
        <span className="muted">Each filter matches the whole value (e.g. deployment/cls/v1).</span>
      </form>
      {!audit.ok ? (
        <ErrorPanel what="the audit log" failure={audit} />
      ) : audit.data.entries.length === 0 ? (
        <p className="empty">
          {filtered ? 'No entry matches these filters.' : 'The audit log is empty: nothing has been changed yet.'}
        </p>
      ) : (
        <>
          <p className="muted">
            {audit.data.entries.length === LIMIT
              ? `The latest ${LIMIT} entries.`
              : `${audit.data.entries.length} entries.`}{' '}
            Times in {timeZone}.
          </p>
          <table>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Before → after</th>
              </tr>
            </thead>
            <tbody>
              {[...audit.data.entries]
                .sort((a, b) => Date.parse(b.at) - Date.parse(a.at) || b.id - a.id)
                .map((e) => (
                  <tr key={e.id}>
                    <td className="nowrap">{formatTime(e.at, timeZone)}</td>
                    <td>{e.actor}</td>
                    <td>{e.action}</td>
                    <td>{e.target}</td>
                    <td className="detail">
                      <code>{compactJson(e.before)}</code> → <code>{compactJson(e.after)}</code>
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
        </>
      )}
    </>
  );
}
