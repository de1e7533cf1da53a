import type { Metadata } from 'next';
import Link from 'next/link';
import { ErrorPanel } from '../../../components/error-panel';
import { InlineMarkdown, Markdown } from '../../../components/markdown';
import { PageHeader } from '../../../components/page-header';
import { StepRunner } from '../../../components/step-runner';
import { describeAction } from '../../../lib/action-summary';
import { compactJson, formatTime } from '../../../lib/format';
import { readerTimeZone } from '../../../lib/reader-time-zone';
import { canOperate, requireSession } from '../../../lib/session';
import { apiGet } from '../../../lib/vigil-api';

export const metadata: Metadata = { title: 'Runbook · vigil console' };

type Query = Record<string, string | string[] | undefined>;

/** Values the on-call page passes from the alert's labels, to fill in the steps' missing fields. */
function prefillFrom(q: Query): Partial<Record<'deployment' | 'version' | 'fingerprint', string>> {
  const out: Partial<Record<'deployment' | 'version' | 'fingerprint', string>> = {};
  for (const k of ['deployment', 'version', 'fingerprint'] as const) {
    const v = q[k];
    if (typeof v === 'string' && v) out[k] = v;
  }
  return out;
}

/** A runbook to follow: its text, its steps (actions run from here), and what was run before. */
export default async function RunbookPage({
  params,
  searchParams,
}: {
  params: Promise<{ slug: string }>;
  searchParams: Promise<Query>;
}) {
  const [{ slug }, q] = await Promise.all([params, searchParams]);
  const [session, timeZone, res] = await Promise.all([
    requireSession(),
    readerTimeZone(),
    apiGet('getRunbook', { params: { slug } }),
  ]);
  const operate = canOperate(session.user.role);
  if (!res.ok) {
    return (
      <>
        <PageHeader title="Runbook" timeZone={timeZone} />
        <ErrorPanel what={`runbook ${slug}`} failure={res} />
        <p>
          <Link href="/runbooks">All runbooks</Link>
        </p>
      </>
    );
  }
  const rb = res.data;
  const prefill = prefillFrom(q);
  return (
    <>
      <PageHeader title={rb.title} timeZone={timeZone}>
        {operate && (
          <Link className="button" href={`/runbooks/${encodeURIComponent(rb.slug)}/edit`}>
            Edit
          </Link>
        )}
      </PageHeader>
      <p className="muted">
        {rb.tags.length > 0 ? `Tags: ${rb.tags.join(', ')} · ` : ''}
        {rb.alert_names.length > 0 ? `For alerts: ${rb.alert_names.join(', ')} · ` : ''}
        updated {formatTime(rb.updated_at, timeZone)}
      </p>
      {Object.keys(prefill).length > 0 && (
        <p className="muted">
          From the alert:{' '}
          {Object.entries(prefill)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}
        </p>
      )}

      <section aria-labelledby="body-h">
        <h2 id="body-h" className="sr-only">
          Text
        </h2>
        {rb.body_md.trim() ? <Markdown source={rb.body_md} /> : <p className="empty">This runbook has no text.</p>}
      </section>

      <section aria-labelledby="steps-h">
        <h2 id="steps-h">Steps</h2>
        {rb.steps.length === 0 ? (
          <p className="empty">No steps.</p>
        ) : (
          <ol className="steps">
            {rb.steps.map((s) => (
              <li key={s.position} data-testid={`step-${s.position}`}>
                <strong>
                  <InlineMarkdown text={s.title} />
                </strong>
                {s.kind === 'action' && s.action ? (
                  <>
                    <div className="muted">{describeAction(s.action)}</div>
                    {operate ? (
                      <StepRunner slug={rb.slug} step={s} prefill={prefill} />
                    ) : (
                      <div className="muted">Running actions needs the operator role.</div>
                    )}
                  </>
                ) : null}
              </li>
            ))}
          </ol>
        )}
      </section>

      <section aria-labelledby="executions-h">
        <h2 id="executions-h">Recent executions</h2>
        {rb.executions.length === 0 ? (
          <p className="empty">No step of this runbook has been run.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Step</th>
                <th scope="col">Actor</th>
                <th scope="col">Status</th>
                <th scope="col">Request</th>
                <th scope="col">Result</th>
              </tr>
            </thead>
            <tbody>
              {rb.executions.map((e) => (
                <tr key={e.id} className={e.status === 'failed' ? 'hot' : undefined}>
                  <td className="nowrap">{formatTime(e.at, timeZone)}</td>
                  <td>{e.step ?? '—'}</td>
                  <td>{e.actor}</td>
                  <td>{e.status}</td>
                  <td className="detail">
                    <code>{compactJson(e.request, 200)}</code>
                  </td>
                  <td className="detail">
                    <code>{compactJson(e.result, 200)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
