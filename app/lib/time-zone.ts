/**
 * The browser's time zone travels to the server in this cookie (set by <TimeZoneCookie/>), so
 * that times rendered on the server read in the reader's local time. Shared by both sides.
 */
export const TIME_ZONE_COOKIE = 'vigil_tz';

/** Whether `tz` is an IANA zone this runtime knows ("Europe/Paris", "UTC"). */
export function isTimeZone(tz: string): boolean {
  if (tz.length === 0 || tz.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
