'use client';

import { useState } from 'react';
import { callRoute, type BrowserResult } from '../lib/browser-api';
import { ActionResult } from './action-result';
import { ConfirmDialog } from './confirm-dialog';

/** Sets how many replicas one version runs (until vigil restarts), after a confirmation. */
export function ScaleForm({ deployment, version, target }: { deployment: string; version: string; target: number }) {
  const [value, setValue] = useState(String(target));
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<BrowserResult | null>(null);
  // A new target from a refresh (this change, or someone else's) replaces what the input shows.
  const [shownTarget, setShownTarget] = useState(target);
  // The dialog keeps saying what was confirmed, even after the refresh that follows a change.
  const [change, setChange] = useState({ from: target, to: target });
  if (target !== shownTarget) {
    setShownTarget(target);
    setValue(String(target));
  }
  const replicas = Number(value);
  const valid = /^\d+$/.test(value) && replicas <= 1000 && replicas !== target;

  const submit = async () => {
    setBusy(true);
    const r = await callRoute('scaleVersion', {
      params: { name: deployment, version },
      body: { replicas: change.to },
    });
    setResult(r);
    setBusy(false);
  };

  return (
    <form
      className="inline-form"
      aria-label={`Replicas of ${deployment} ${version}`}
      onSubmit={(e) => {
        e.preventDefault();
        setResult(null);
        setChange({ from: target, to: replicas });
        setOpen(true);
      }}
    >
      <label>
        <span className="sr-only">Replicas of {version}</span>
        <input
          type="number"
          min={0}
          max={1000}
          step={1}
          value={value}
          className="narrow"
          data-testid={`scale-input-${deployment}-${version}`}
          onChange={(e) => setValue(e.target.value)}
        />
      </label>
      <button type="submit" disabled={!valid}>
        Scale
      </button>
      <ConfirmDialog
        open={open}
        title={`Scale ${deployment} ${version}`}
        confirmLabel="Scale"
        done={!!result?.ok}
        busy={busy}
        onConfirm={submit}
        onClose={() => setOpen(false)}
      >
        <p>
          Replicas of {deployment} {version}: {change.from} → <strong>{change.to}</strong>.{' '}
          {change.to < change.from ? 'Surplus replicas drain, then stop.' : 'New replicas start within about a second.'}
          {change.to === 0 ? ' With 0, requests to this version get 503.' : ''}
        </p>
        <ActionResult result={result} success="Scaled." />
      </ConfirmDialog>
    </form>
  );
}
