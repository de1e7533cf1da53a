import type { ApiFailure } from '../lib/vigil-api';

/**
 * What a panel shows when its data could not be read: the call, vigil's status and code, and its
 * message. Never an empty panel, never a made-up number.
 */
export function ErrorPanel({
  what,
  failure,
}: {
  what: string;
  failure: Pick<ApiFailure, 'status' | 'error' | 'message'>;
}) {
  const status = failure.status === 0 ? 'no answer' : `HTTP ${failure.status}`;
  return (
    <div className="error-panel" role="alert">
      <strong>Cannot show {what}.</strong> {status} <code>{failure.error}</code>: {failure.message}
    </div>
  );
}
