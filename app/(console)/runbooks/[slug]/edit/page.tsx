import type { Metadata } from 'next';
import { ErrorPanel } from '../../../../components/error-panel';
import { PageHeader } from '../../../../components/page-header';
import { RunbookEditor } from '../../../../components/runbook-editor';
import { readerTimeZone } from '../../../../lib/reader-time-zone';
import { canOperate, requireSession } from '../../../../lib/session';
import { apiGet } from '../../../../lib/vigil-api';

export const metadata: Metadata = { title: 'Edit runbook · vigil console' };

export default async function EditRunbookPage({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const [session, timeZone, runbook] = await Promise.all([
    requireSession(),
    readerTimeZone(),
    apiGet('getRunbook', { params: { slug } }),
  ]);
  return (
    <>
      <PageHeader title={runbook.ok ? `Edit: ${runbook.data.title}` : 'Edit runbook'} timeZone={timeZone} />
      {!canOperate(session.user.role) ? (
        <p className="error-panel" role="alert">
          Editing runbooks needs the operator role; you are signed in as {session.user.role}.
        </p>
      ) : runbook.ok ? (
        <RunbookEditor existing={runbook.data} />
      ) : (
        <ErrorPanel what={`runbook ${slug}`} failure={runbook} />
      )}
    </>
  );
}
