'use client';

/**
 * The fallback when a page throws (a bug, not an API error: those get their own panels). The
 * message stays on the server; the digest matches its log line.
 */
export default function ConsoleError({ error, retry }: { error: unknown; retry: () => void }) {
  const digest =
    error instanceof Error && 'digest' in error ? String((error as Error & { digest?: string }).digest) : null;
  return (
    <div className="error-panel" role="alert">
      <strong>This page failed to render.</strong> {digest ? <>See the console server log for error {digest}.</> : null}{' '}
      <button type="button" onClick={() => retry()}>
        Try again
      </button>
    </div>
  );
}
