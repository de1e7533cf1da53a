'use client';

import { useRouter } from 'next/navigation';
import { useEffect, useRef, type ReactNode } from 'react';
import { usePauseRefresh } from '../lib/refresh-pause';

export interface ConfirmDialogProps {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel?: string;
  /**
   * The action has run: Confirm is disabled, Cancel reads Close, and closing refreshes the page.
   * The refresh waits for the close because it may remove the very button that opened the dialog
   * (an acknowledged alert, a finished rollout), and the outcome must stay readable until then.
   */
  done?: boolean;
  /** False while the action cannot run yet (missing inputs, no preview) or is running. */
  canConfirm?: boolean;
  busy?: boolean;
  onConfirm(): void;
  onClose(): void;
}

/**
 * A modal confirmation (native <dialog>: focus trap and Escape for free). It exists in the page
 * only while open, so there is one Confirm button to find, and auto-refresh is paused meanwhile,
 * so the page does not change under the person deciding.
 */
export function ConfirmDialog(props: ConfirmDialogProps) {
  return props.open ? <OpenDialog {...props} /> : null;
}

function OpenDialog({
  title,
  children,
  confirmLabel = 'Confirm',
  done = false,
  canConfirm = true,
  busy = false,
  onConfirm,
  onClose,
}: ConfirmDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const router = useRouter();
  const close = () => {
    onClose();
    if (done) router.refresh();
  };
  usePauseRefresh(true);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  return (
    <dialog ref={ref} className="confirm-dialog" onClose={close} aria-label={title}>
      <h2>{title}</h2>
      <div className="dialog-body">{children}</div>
      <div className="dialog-buttons">
        <button type="button" onClick={close}>
          {done ? 'Close' : 'Cancel'}
        </button>
        <button
          type="button"
          className="primary"
          data-testid="confirm-action"
          disabled={!canConfirm || busy || done}
          onClick={onConfirm}
        >
          {busy ? 'Working…' : confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
