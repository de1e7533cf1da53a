/** `vigil probe run` and `vigil probe record`: a deployment's probes through a running node. */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Document, isMap, isPair, isScalar, visit } from 'yaml';
import { callNode } from './node-client.ts';

/** Runs the probes against one version now and prints each result; exits 1 when one did not pass. */
export async function probeRunCommand(url: string, token: string | undefined, deployment: string, version: string) {
  const { results } = await callNode(url, token, 'runProbes', { params: { name: deployment, version } });
  if (results.length === 0) console.log(`${deployment} has no probes for ${version}`);
  for (const r of results)
    console.log(
      `${r.result.toUpperCase().padEnd(5)} ${r.probe} on ${r.version} (${Math.round(r.duration_ms)} ms): ${r.detail}`,
    );
  if (results.some((r) => r.result !== 'pass')) process.exitCode = 1;
}

/**
 * Prints, as vigil.yaml's `probes:`, what a known-good version answers now: the configured probes
 * with new expectations, or the inference requests in `files` as new probes.
 */
export async function probeRecordCommand(
  url: string,
  token: string | undefined,
  deployment: string,
  version: string,
  files: string[],
  expect: 'top1' | 'allclose',
) {
  const requests = files.map((f) => ({
    name: basename(f)
      .replace(/\.json$/, '')
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 63),
    request: JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>,
  }));
  const recorded = await callNode(url, token, 'recordProbes', {
    params: { name: deployment, version },
    body: { expect, ...(files.length ? { requests } : {}) },
  });
  const probes = recorded.probes.map((p, i) => ({
    name: p.name,
    ...(files.length ? { request_file: files[i] } : {}),
    ...(p.expect ? { expect: p.expect } : {}),
  }));
  const problems = recorded.probes.filter((p) => p.problem !== null);
  const header = `# what ${deployment} ${version} answers now (vigil probe record); review before you keep it\n`;
  // Expectations on one line each ({ top1: 0 }, or the values in a flow list), as vigil.yaml writes them.
  const doc = new Document({ probes });
  visit(doc, {
    Pair(_, pair) {
      if (isPair(pair) && isScalar(pair.key) && pair.key.value === 'expect' && isMap(pair.value))
        pair.value.flow = true;
    },
  });
  process.stdout.write(header + doc.toString({ lineWidth: 100 }));
  for (const p of problems) process.stderr.write(`vigil: probe ${p.name}: ${p.problem}\n`);
  if (problems.length) process.exitCode = 1;
}
