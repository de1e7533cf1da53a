/** `vigil status` and `vigil shutdown`: talk to a running node over its HTTP API. */
import { callNode } from './node-client.ts';

export async function statusCommand(url: string, json: boolean, token?: string): Promise<void> {
  const doc = await callNode(url, token, 'getStatus', {});
  if (json) {
    console.log(JSON.stringify(doc, null, 2));
    return;
  }
  console.log(`vigil at ${url}: ${doc.draining ? 'draining' : doc.ready ? 'ready' : 'not ready'}`);
  const hw = doc.host.hardware;
  const sig = doc.host.signals;
  const pressure = sig?.cpuPressure === null || !sig ? 'no PSI' : `CPU pressure ${Math.round(sig.cpuPressure * 100)}%`;
  const heat = sig?.maxCelsius === null || !sig ? 'no temperature sensor' : `${sig.maxCelsius.toFixed(0)} °C`;
  console.log(
    `machine: ${hw.cpuModel}, ${hw.usableCores} usable cores; ${heat}, ${pressure}` +
      (doc.host.capped ? `; replica growth HELD (${doc.host.capped}): ${doc.host.detail}` : ''),
  );
  const rows: string[][] = [
    ['DEPLOYMENT', 'VERSION', 'REPLICA', 'STATE', 'PID', 'ONGOING', 'QUEUED', 'RSS', 'PROVIDER'],
  ];
  for (const d of doc.deployments) {
    for (const v of d.versions) {
      if (v.replicas.length === 0)
        rows.push([
          d.name,
          v.version,
          '-',
          v.crashLoop ? 'CRASH_LOOP' : v.state === 'retired' ? 'RETIRED' : 'NONE',
          '-',
          '0',
          String(v.queued),
          '-',
          '-',
        ]);
      for (const r of v.replicas) {
        const rss = r.rss_bytes === null ? '-' : `${(r.rss_bytes / 2 ** 20).toFixed(0)}MiB`;
        rows.push([
          d.name,
          v.version,
          r.id,
          r.state,
          String(r.pid ?? '-'),
          String(r.ongoing),
          String(v.queued),
          rss,
          r.provider,
        ]);
      }
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
}

export async function shutdownCommand(url: string, token?: string): Promise<void> {
  await callNode(url, token, 'shutdown', {});
  console.log(`vigil at ${url} is draining and will stop`);
}
