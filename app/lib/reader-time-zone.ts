import 'server-only';
import { cookies } from 'next/headers';
import { isTimeZone, TIME_ZONE_COOKIE } from './time-zone';

/** The reader's IANA time zone from its cookie; UTC until the browser has sent one. */
export async function readerTimeZone(): Promise<string> {
  const tz = (await cookies()).get(TIME_ZONE_COOKIE)?.value;
  return tz && isTimeZone(tz) ? tz : 'UTC';
}
