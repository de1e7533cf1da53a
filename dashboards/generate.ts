/**
 * Renders vigil's Grafana dashboards from their typed definitions into dashboards/grafana/*.json.
 *
 *   npm run dashboards
 *
 * The JSON is committed; tests/unit/dashboards.test.ts fails when it differs from what this
 * renders, so edit the definitions and regenerate, never the JSON.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Dashboard } from '@grafana/schema';
import { debugDashboard } from './definitions/debug.ts';
import { executiveDashboard } from './definitions/executive.ts';
import { oncallDashboard } from './definitions/oncall.ts';
import { sortKeys } from './sort-keys.ts';

/** Where the rendered JSON lives (and where deploy/compose mounts it into Grafana). */
export const OUTPUT_DIR = join(dirname(fileURLToPath(import.meta.url)), 'grafana');

/** Every dashboard by file name (`<uid>.json`). Pure: builds objects, touches nothing. */
export function buildDashboards(): Record<string, Dashboard> {
  const out: Record<string, Dashboard> = {};
  for (const d of [executiveDashboard(), oncallDashboard(), debugDashboard()]) {
    if (!d.uid) throw new Error(`dashboard "${d.title}" has no uid`);
    const file = `${d.uid}.json`;
    if (out[file]) throw new Error(`two dashboards have the uid ${d.uid}`);
    out[file] = d;
  }
  return out;
}

/** The exact text written for a dashboard: stable key order, 2-space indent, trailing newline. */
export function renderDashboard(d: Dashboard): string {
  return `${JSON.stringify(sortKeys(d), null, 2)}\n`;
}

/** Writes every dashboard and removes .json files no definition produces; returns the paths written. */
export function writeDashboards(dir = OUTPUT_DIR): string[] {
  mkdirSync(dir, { recursive: true });
  const dashboards = buildDashboards();
  for (const name of readdirSync(dir)) {
    if (name.endsWith('.json') && !(name in dashboards)) rmSync(join(dir, name));
  }
  return Object.entries(dashboards).map(([name, d]) => {
    const path = join(dir, name);
    writeFileSync(path, renderDashboard(d));
    return path;
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const path of writeDashboards()) console.log(`wrote ${path}`);
}
