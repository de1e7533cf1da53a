'use client';

import { useState } from 'react';
import type { CallInput } from '../../contract/control/client';
import type { ControlApi, OperationId } from '../../contract/control-api';
import { callRoute, type BrowserResult } from '../lib/browser-api';
import { ActionResult } from './action-result';
import { ConfirmDialog } from './confirm-dialog';

export interface ActionButtonProps<K extends OperationId> {
  label: string;
  /** The route of the control API it calls (contract/control-api.ts), and what it sends. */
  operation: K;
  input: CallInput<ControlApi[K]>;
  /** What will happen, said in the confirmation dialog. */
  confirm: string;
  danger?: boolean;
}

/**
 * One operator action: a button, a confirmation that says what it will do, then the call and its
 * outcome (vigil's error code when refused). The page is refreshed when the dialog is closed.
 */
export function ActionButton<K extends OperationId>({
  label,
  operation,
  input,
  confirm,
  danger = false,
}: ActionButtonProps<K>) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<BrowserResult | null>(null);
  const run = async () => {
    setBusy(true);
    const r = await callRoute(operation, input);
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
