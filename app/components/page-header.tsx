import type { ReactNode } from 'react';
import { formatClock } from '../lib/format';

/** A page's title and when its data was read ("updated 15:43:56 CET"), in the reader's zone. */
export function PageHeader({ title, timeZone, children }: { title: string; timeZone: string; children?: ReactNode }) {
  return (
    <header className="page-header">
      <h1>{title}</h1>
      {children}
      <p className="updated">updated {formatClock(new Date(), timeZone)}</p>
    </header>
  );
}
