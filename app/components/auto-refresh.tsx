'use client';

import { useRouter } from 'next/navigation';
import { useEffect } from 'react';
import { isRefreshPaused } from '../lib/refresh-pause';

/** True while the person is typing in a field: a refresh then would be a distraction. */
function isEditing(): boolean {
  const el = document.activeElement;
  return el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement;
}

/**
 * Re-renders the page's server components every `ms` (fresh data from vigil, client state kept).
 * Skips a tick while the tab is hidden, a dialog or an edit form holds a pause, or a field has focus.
 */
export function AutoRefresh({ ms }: { ms: number }) {
  const router = useRouter();
  useEffect(() => {
    const id = setInterval(() => {
      if (document.visibilityState !== 'visible' || isRefreshPaused() || isEditing()) return;
      router.refresh();
    }, ms);
    return () => clearInterval(id);
  }, [ms, router]);
  return null;
}
