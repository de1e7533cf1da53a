'use client';

import { useRouter } from 'next/navigation';
import { useEffect } from 'react';
import { TIME_ZONE_COOKIE } from '../lib/time-zone';

/**
 * Tells the server the browser's time zone (in a cookie), so server-rendered times are local.
 * When the cookie was missing or stale it refreshes the page once to re-render them.
 */
export function TimeZoneCookie() {
  const router = useRouter();
  useEffect(() => {
    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!tz) return;
    const current = document.cookie
      .split('; ')
      .find((c) => c.startsWith(`${TIME_ZONE_COOKIE}=`))
      ?.slice(TIME_ZONE_COOKIE.length + 1);
    if (current !== undefined && decodeURIComponent(current) === tz) return;
    // biome-ignore lint/suspicious/noDocumentCookie: the Cookie Store API is not in every browser the console supports
    document.cookie = `${TIME_ZONE_COOKIE}=${encodeURIComponent(tz)}; path=/; max-age=31536000; samesite=strict`;
    router.refresh();
  }, [router]);
  return null;
}
