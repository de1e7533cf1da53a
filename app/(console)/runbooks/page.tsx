import type { Metadata } from 'next';
import Link from 'next/link';
import { ErrorPanel } from '../../components/error-panel';
import { PageHeader } from '../../components/page-header';
import { formatTime } from '../../lib/format';
import { readerTimeZone } from '../../lib/reader-time-zone';
import { canOperate, requireSession } from '../../lib/session';
import { apiGet } from '../../lib/vigil-api';

export const metadata: Metadata = { title: 'Runbooks · vigil console' };

/** Every runbook, filtered by one tag (?tag=); the tag list comes from all of them. */
export default async function RunbooksPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const q = await searchParams;
  const tag = typeof q.tag === 'string' && q.tag ? q.tag : null;
  const [session, timeZone, all] = await Promise.all([requireSession(), readerTimeZone(), apiGet('listRunbooks', {})]);
  const tags = all.ok ? [...new Set(all.data.runbooks.flatMap((r) => r.tags))].sort() : [];
  const shown = all.ok ? all.data.runbooks.filter((r) => tag === null || r.tags.includes(tag)) : [];
  return (
    <>
      <PageHeader title="Runbooks" timeZone={timeZone}>
        {canOperate(session.user.role) && (
          <Link className="button primary" href="/runbooks/new">
            New runbook
          </Link>
        )}
      </PageHeader>
      {!all.ok ? (
        <ErrorPanel what="runbooks" failure={all} />
      ) : (
        <>
          <form method="get" className="filters" aria-label="Filter runbooks">
            <label>
              Tag{' '}
              <select name="tag" defaultValue={tag ?? ''}>
                <option value="">all tags</option>
                {tags.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit">Filter</button>
            {tag && <Link href="/runbooks">Clear</Link>}
          </form>
          {shown.length === 0 ? (
            <p className="empty">{tag ? `No runbook is tagged ${tag}.` : 'No runbooks yet.'}</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Title</th>
                  <th scope="col">Tags</th>
                  <th scope="col">Alerts</th>
                  <th scope="col">Steps</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((r) => (
                  <tr key={r.slug} data-testid={`runbook-${r.slug}`}>
                    <th scope="row">
                      <Link href={`/runbooks/${encodeURIComponent(r.slug)}`}>{r.title}</Link>
                    </th>
                    <td>
                      {r.tags.map((t) => (
                        <Link key={t} className="tag" href={`/runbooks?tag=${encodeURIComponent(t)}`}>
                          {t}
                        </Link>
                      ))}
                    </td>
                    <td>{r.alert_names.join(', ') || '—'}</td>
                    <td>{r.steps.length}</td>
                    <td>{formatTime(r.updated_at, timeZone)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </>
  );
}
