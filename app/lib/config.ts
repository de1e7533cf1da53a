import 'server-only';

/**
 * The console's settings, read from the environment once when the server starts (the only
 * reader of `process.env` in app/). `vigil start` passes them when it starts the console.
 */
export interface ConsoleConfig {
  /** Where the control plane's /api/v1 lives, without a trailing slash. */
  apiUrl: string;
  /** Prometheus' base URL; when set, charts read from Prometheus instead of vigil's memory. */
  prometheusUrl: string | null;
}

function httpUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${name}: expected an http(s) URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`${name}: expected an http(s) URL, got ${JSON.stringify(value)}`);
  return url.href.replace(/\/+$/, '');
}

export const consoleConfig: Readonly<ConsoleConfig> = Object.freeze({
  apiUrl: httpUrl('VIGIL_API_URL', process.env.VIGIL_API_URL || 'http://127.0.0.1:8080'),
  prometheusUrl: process.env.VIGIL_PROMETHEUS_URL
    ? httpUrl('VIGIL_PROMETHEUS_URL', process.env.VIGIL_PROMETHEUS_URL)
    : null,
});
