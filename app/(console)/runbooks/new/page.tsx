import type { Metadata } from 'next';
import { PageHeader } from '../../../components/page-header';
import { RunbookEditor } from '../../../components/runbook-editor';
import { readerTimeZone } from '../../../lib/reader-time-zone';
import { canOperate, requireSession } from '../../../lib/session';

export const metadata: Metadata = { title: 'New runbook · vigil console' };

export default async function NewRunbookPage() {
  const [session, timeZone] = await Promise.all([requireSession(), readerTimeZone()]);
  return (
    <>
      <PageHeader title="New runbook" timeZone={timeZone} />
      {canOperate(session.user.role) ? (
        <RunbookEditor existing={null} />
      ) : (
        <p className="error-panel" role="alert">
          Writing runbooks needs the operator role; you are signed in as {session.user.role}.
        </p>
      )}
    </>
  );
}
