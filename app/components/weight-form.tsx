'use client';

import { useState } from 'react';
import { callRoute, type BrowserResult } from '../lib/browser-api';
import { usePauseRefresh } from '../lib/refresh-pause';
import { formatWeights } from '../lib/runbook-params';
import { ActionResult } from './action-result';
import { ConfirmDialog } from './confirm-dialog';

/** Sets a deployment's traffic split by hand: one weight per version, confirmed before it applies. */
export function WeightForm({
  deployment,
  versions,
}: {
  deployment: string;
  versions: Array<{ version: string; weight: number }>;
}) {
  const current = Object.fromEntries(versions.map((v) => [v.version, String(v.weight)]));
  const [values, setValues] = useState<Record<string, string>>(current);
  const [editing, setEditing] = useState(false);
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<BrowserResult | null>(null);
  // The split as it was when the person confirmed, for the dialog to keep showing after the refresh.
  const [before, setBefore] = useState('');
  usePauseRefresh(editing);
  const weights = Object.fromEntries(versions.map((v) => [v.version, Number(values[v.version] ?? 0)]));
  const valid =
    versions.every((v) => /^\d+$/.test(values[v.version] ?? '')) && Object.values(weights).some((w) => w > 0);

  const submit = async () => {
    setBusy(true);
    const r = await callRoute('setWeights', { params: { name: deployment }, body: { weights } });
    setResult(r);
    setBusy(false);
    if (r.ok) setEditing(false);
  };

  const dialog = (
    <ConfirmDialog
      open={open}
      title={`Set weights of ${deployment}`}
      confirmLabel="Set weights"
      done={!!result?.ok}
      busy={busy}
      onConfirm={submit}
      onClose={() => setOpen(false)}
    >
      <p>
        Traffic split of {deployment}: {before} → <strong>{formatWeights(weights)}</strong>
      </p>
      <ActionResult result={result} success="Weights set." />
    </ConfirmDialog>
  );
  return (
    <>
      {editing ? (
        <form
          className="inline-form"
          aria-label={`Traffic weights of ${deployment}`}
          onSubmit={(e) => {
            e.preventDefault();
            setResult(null);
            setBefore(formatWeights(Object.fromEntries(versions.map((v) => [v.version, v.weight]))));
            setOpen(true);
          }}
        >
          {versions.map((v) => (
            <label key={v.version}>
              {v.version}
              <input
                type="number"
                min={0}
                step={1}
                required
                value={values[v.version] ?? ''}
                data-testid={`weight-input-${deployment}-${v.version}`}
                onChange={(e) => setValues({ ...values, [v.version]: e.target.value })}
              />
            </label>
          ))}
          <button type="submit" className="primary" disabled={!valid}>
            Apply
          </button>
          <button type="button" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </form>
      ) : (
        <button
          type="button"
          onClick={() => {
            setValues(current);
            setResult(null);
            setEditing(true);
          }}
        >
          Set weights
        </button>
      )}
      {dialog}
    </>
  );
}
