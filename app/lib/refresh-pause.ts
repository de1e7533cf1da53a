import { useEffect } from 'react';

/**
 * Auto-refresh must not re-render a page under a person who is confirming an action or editing a
 * form. Components that hold such a state register here while it lasts; <AutoRefresh/> skips its
 * tick while any is registered.
 */
let holders = 0;

export function isRefreshPaused(): boolean {
  return holders > 0;
}

/** Pauses auto-refresh for as long as `active` is true and the component is mounted. */
export function usePauseRefresh(active: boolean): void {
  useEffect(() => {
    if (!active) return;
    holders += 1;
    return () => {
      holders -= 1;
    };
  }, [active]);
}
