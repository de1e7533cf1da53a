import client from 'prom-client';

export const OPENMETRICS_CONTENT_TYPE = client.Registry.OPENMETRICS_CONTENT_TYPE;
export const PROMETHEUS_CONTENT_TYPE = client.Registry.PROMETHEUS_CONTENT_TYPE;

/** True when the scraper prefers OpenMetrics (Prometheus itself does, and gets exemplars). */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  return accept?.includes('application/openmetrics-text') ?? false;
}

/**
 * vigil keeps one OpenMetrics registry, because prom-client stores exemplars only there, and
 * derives the classic text format from its output instead of keeping every metric twice on the
 * hot path. The differences are small and mechanical: counter families get their `_total` name
 * back in HELP and TYPE, exemplars and `# EOF` are dropped.
 */
export function openMetricsToPrometheusText(om: string): string {
  const out: string[] = [];
  const lines = om.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '# EOF' || line === '') continue;
    if (line.startsWith('# HELP ')) {
      const family = line.slice(7, line.indexOf(' ', 7));
      const typeLine = lines[i + 1] ?? '';
      if (typeLine === `# TYPE ${family} counter`) {
        out.push(`# HELP ${family}_total${line.slice(7 + family.length)}`, `# TYPE ${family}_total counter`);
        i++;
        continue;
      }
      out.push(line);
      continue;
    }
    if (line.startsWith('#')) {
      out.push(line);
      continue;
    }
    // A sample line; an exemplar follows " # {". Label values come from configuration (names
    // restricted to [A-Za-z0-9._-]), so that sequence cannot occur inside a label value.
    const exemplarAt = line.indexOf(' # {');
    out.push(exemplarAt >= 0 ? line.slice(0, exemplarAt) : line);
  }
  return `${out.join('\n')}\n`;
}
