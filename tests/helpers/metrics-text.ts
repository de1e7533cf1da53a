/** One sample from a Prometheus text exposition. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses sample lines of the text format (comments and exemplars ignored). */
export function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    if (!raw || raw.startsWith('#')) continue;
    const line = raw.split(' # ')[0]!;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the one sample matching name and labels (0 if absent). */
export function sampleValue(samples: Sample[], name: string, labels: Record<string, string>): number {
  const s = samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return s?.value ?? 0;
}

export async function scrape(url: string, accept?: string): Promise<{ text: string; contentType: string }> {
  const res = await fetch(`${url}/metrics`, { headers: accept ? { accept } : {} });
  return { text: await res.text(), contentType: res.headers.get('content-type') ?? '' };
}
