import type { BrowserResult } from '../lib/browser-api';

/** The outcome of an action in a dialog: "done", or vigil's error code and message. */
export function ActionResult({ result, success }: { result: BrowserResult | null; success: string }) {
  if (!result) return null;
  if (result.ok)
    return (
      <p className="result-ok" role="status">
        {success}
      </p>
    );
  return (
    <p className="result-error" role="alert">
      Refused: {result.status === 0 ? 'no answer' : `HTTP ${result.status}`} <code>{result.error}</code>:{' '}
      {result.message}
    </p>
  );
}
