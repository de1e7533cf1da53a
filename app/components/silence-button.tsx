'use client';

import { useState } from 'react';
import { callRoute, type BrowserResult } from '../lib/browser-api';
import { ActionResult } from './action-result';
import { ConfirmDialog } from './confirm-dialog';

const DURATIONS = [
  { label: '30 minutes', seconds: 1800 },
  { label: '1 hour', seconds: 3600 },
  { label: '4 hours', seconds: 4 * 3600 },
  { label: '24 hours', seconds: 24 * 3600 },
];

/**
 * Silences an alert for a chosen time (its notifications stop; it stays on this page), or lifts
 * a silence. The end time is computed when the person confirms, not when the page was drawn.
 */
export function SilenceButton({
  fingerprint,
  alertName,
  silenced,
}: {
  fingerprint: string;
  alertName: string;
  silenced: boolean;
}) {
  const [open, setOpen] = useState(false);
  const [seconds, setSeconds] = useState(3600);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<BrowserResult | null>(null);
  const label = silenced ? 'Lift silence' : 'Silence';
  const run = async () => {
    setBusy(true);
    const until = silenced ? null : new Date(Date.now() + seconds * 1000).toISOString();
    const r = await callRoute('silenceAlert', { params: { fingerprint }, body: { until } });
    setResult(r);
    setBusy(false);
  };
  return (
    <>
      <button
        type="button"
        onClick={() => {
          setResult(null);
          setOpen(true);
        }}
      >
        {label}
      </button>
      <ConfirmDialog
        open={open}
        title={`${label}: ${alertName}`}
        confirmLabel={label}
        done={!!result?.ok}
        busy={busy}
        onConfirm={run}
        onClose={() => setOpen(false)}
      >
        {silenced ? (
          <p>Notifications for this alert resume at once.</p>
        ) : (
          <label>
            Silence for{' '}
            <select value={seconds} onChange={(e) => setSeconds(Number(e.target.value))} disabled={!!result?.ok}>
              {DURATIONS.map((d) => (
                <option key={d.seconds} value={d.seconds}>
                  {d.label}
                </option>
              ))}
            </select>
          </label>
        )}
        <ActionResult result={result} success={silenced ? 'Silence lifted.' : 'Silenced.'} />
      </ConfirmDialog>
    </>
  );
}
