import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import './globals.css';

// Every page is rendered per request: each response carries a fresh CSP nonce
// (serving/console/console-server.mjs), which a page prerendered at build time could not.
export const dynamic = 'force-dynamic';

export const metadata: Metadata = { title: 'vigil console', robots: { index: false, follow: false } };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
