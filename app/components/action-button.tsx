'use client';

import { useState } from 'react';
import { callApi, type BrowserResult } from '../lib/browser-api';
import { ActionResult } from './action-result';
import { ConfirmDialog } from './confirm-dialog';

export interface ActionButtonProps {
  label: string;
  method: 'POST' | 'PUT' | 'DELETE';
  /** Below /api/v1. */
  path: string;
  body?: unknown;
  /** What will happen, said in the confirmation dialog. */
  confirm: string;
  danger?: boolean;
}

/**
 * One operator action: a button, a confirmation that says what it will do, then the call and its
 * outcome (vigil's error code when refused). The page is refreshed when the dialog is closed.
 */
export function ActionButton({ label, method, path, body, confirm, danger = false }: ActionButtonProps) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<BrowserResult | null>(null);
  const run = async () => {
    setBusy(true);
    const r = await callApi(method, path, body);
    setResult(r);
    setBusy(false);
  };
  return (
    <>
      <button
        type="button"
        className={danger ? 'danger' : undefined}
        onClick={() => {
          setResult(null);
          setOpen(true);
        }}
      >
        {label}
      </button>
      <ConfirmDialog
        open={open}
        title={label}
        confirmLabel={label}
        done={!!result?.ok}
        busy={busy}
        onConfirm={run}
        onClose={() => setOpen(false)}
      >
        <p>{confirm}</p>
        <ActionResult result={result} success="Done." />
      </ConfirmDialog>
    </>
  );
}
