/**
 * How the console writes numbers, durations and times. Every function takes what the API gives
 * (`null` for "unknown") and says "no data" rather than inventing a number.
 */

export const NO_DATA = 'no data';

/** An exact count, digits only, so that it reads (and parses) as the integer it is. */
export function formatCount(n: number): string {
  return Math.round(n).toString();
}

/** A ratio (0.9995) as a percentage with two decimals ("99.95%"). */
export function formatPercent(ratio: number | null, digits = 2): string {
  return ratio === null || !Number.isFinite(ratio) ? NO_DATA : `${(ratio * 100).toFixed(digits)}%`;
}

/** Milliseconds with a precision that fits the size: 0.42 ms, 12.3 ms, 845 ms. */
export function formatMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return NO_DATA;
  return `${trimNumber(ms)} ms`;
}

/** A number with about three significant digits, without a useless trailing ".0". */
export function trimNumber(v: number): string {
  const abs = Math.abs(v);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return Number(v.toFixed(digits)).toString();
}

const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumSignificantDigits: 3 });

/** US dollars; small amounts keep three significant digits ($0.000412). */
export function formatUsd(v: number): string {
  return usd.format(v);
}

/** Bytes as MiB with one decimal. */
export function formatMiB(bytes: number | null): string {
  return bytes === null ? NO_DATA : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** A burn rate: how many times faster than sustainable the budget is spent ("14.4×"). */
export function formatBurnRate(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? NO_DATA : `${trimNumber(v)}×`;
}

/** A duration for people: "45 s", "12 min", "3 h 20 min", "4 d 6 h". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** Seconds that may be fractional and small (load times): "0.142 s", "3.5 s", "2 min". */
export function formatSeconds(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return NO_DATA;
  if (seconds < 60) return `${Number(seconds.toPrecision(3))} s`;
  return formatDuration(seconds);
}

function parts(date: Date, timeZone: string): Record<string, string> {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'short',
  });
  return Object.fromEntries(fmt.formatToParts(date).map((p) => [p.type, p.value]));
}

/** "15:43:56 UTC": the wall-clock time in the reader's zone, with the zone named. */
export function formatClock(date: Date, timeZone: string): string {
  const p = parts(date, timeZone);
  return `${p.hour}:${p.minute}:${p.second} ${p.timeZoneName}`;
}

/** "2026-11-23 15:43:56 UTC" from an ISO string; "no data" for null, the input for garbage. */
export function formatTime(iso: string | null, timeZone: string): string {
  if (iso === null) return NO_DATA;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const p = parts(date, timeZone);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${p.timeZoneName}`;
}

/** "5 min ago" (or "in 5 min" for a time ahead, e.g. a silence's end). */
export function formatRelative(iso: string, now: Date): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const delta = (now.getTime() - t) / 1000;
  return delta >= 0 ? `${formatDuration(delta)} ago` : `in ${formatDuration(-delta)}`;
}

/** A value as one line of JSON, cut at `max` characters (audit before/after cells). */
export function compactJson(v: unknown, max = 300): string {
  if (v === undefined || v === null) return '—';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
