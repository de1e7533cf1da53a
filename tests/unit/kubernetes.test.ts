/**
 * The Kubernetes manifests in deploy/kubernetes/: the committed YAML is exactly what
 * `npm run k8s` renders, every object validates against its schema, and the objects say what
 * docs/kubernetes.md promises (probes, drain, sizes, secrets, rules, scaler, console). No cluster
 * runs here; the schemas (kubernetes-models, prometheus-operator's and KEDA's) are the check.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { sloRulesCommand } from '../../cli/slo-rules.ts';
import {
  CONFIG_FILE,
  HEADER,
  LOAD_QUERY,
  MAX_NODES,
  MEMORY_FILE,
  OUTPUT_DIR,
  pinControlListener,
  pinIngressProcesses,
  renderManifests,
} from '../../deploy/kubernetes/generate.ts';
import { loadConfig } from '../../serving/config/load-config.ts';
import { VigilMetrics } from '../../serving/telemetry/metrics.ts';
import { haveProgram } from '../helpers/programs.ts';

/** The constructor (and so the schema) for each kind the folder may hold. */
const MODELS = {
  ConfigMap,
  Deployment,
  Service,
  PodDisruptionBudget,
  ServiceMonitor,
  PrometheusRule,
  ScaledObject,
} as const;
type Kind = keyof typeof MODELS;

interface Manifest {
  apiVersion: string;
  kind: Kind;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  /** Read loosely here: the schemas check its shape, the tests the values they care about. */
  spec?: any;
  data?: Record<string, string>;
}

/** What `kubectl apply -f deploy/kubernetes/` reads: the folder's .json/.yaml/.yml files, not its subfolders. */
const committedFiles = readdirSync(OUTPUT_DIR, { withFileTypes: true })
  .filter((e) => e.isFile() && /\.(json|ya?ml)$/.test(e.name))
  .map((e) => e.name)
  .sort();
const committed: Record<string, string> = Object.fromEntries(
  committedFiles.map((f) => [f, readFileSync(join(OUTPUT_DIR, f), 'utf8')]),
);
const manifests: Manifest[] = committedFiles.map((f) => parse(committed[f]!) as Manifest);

function one(kind: Kind, name: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind && m.metadata.name === name);
  if (found.length !== 1)
    throw new Error(`expected one ${kind} named ${name} in deploy/kubernetes/, found ${found.length}`);
  return found[0]!;
}

/** Whether a label selector (matchLabels or a Service's plain map) picks a set of labels. */
function selects(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

const config = loadConfig(CONFIG_FILE);
const memory = JSON.parse(readFileSync(MEMORY_FILE, 'utf8')) as {
  primary_rss_bytes: { peak: number };
  ingress_rss_bytes: { peak: number };
  replica_rss_bytes: Record<string, { peak: number }>;
  console_rss_bytes: { peak: number };
  headroom: number;
};
const node = one('Deployment', 'vigil');
const nodePod = node.spec.template;
const nodeContainer = nodePod.spec.containers[0] as IContainer;
const nodeService = one('Service', 'vigil');
const consoleDeployment = one('Deployment', 'vigil-console');
const consoleContainer = consoleDeployment.spec.template.spec.containers[0] as IContainer;

function env(c: IContainer, name: string) {
  const found = (c.env ?? []).filter((e) => e.name === name);
  expect(found, `${c.name}: env ${name}`).toHaveLength(1);
  return found[0]!;
}

describe('deploy/kubernetes', () => {
  it('is exactly what `npm run k8s` renders (run it after changing the generator, vigil.yaml or the measurements)', () => {
    const rendered = renderManifests();
    expect(committedFiles).toEqual(Object.keys(rendered).sort());
    for (const [file, text] of Object.entries(rendered)) expect(committed[file], file).toBe(text);
    expect(renderManifests()).toEqual(rendered);
  });

  it('holds only namespace-free objects that validate against their schemas', () => {
    expect(manifests.length).toBeGreaterThanOrEqual(9);
    for (const [i, m] of manifests.entries()) {
      const file = committedFiles[i]!;
      expect(committed[file]!.startsWith(HEADER), file).toBe(true);
      const Model = MODELS[m.kind];
      expect(Model, `${file}: kind ${m.kind}`).toBeDefined();
      expect(m.apiVersion, file).toBe(Model.apiVersion);
      expect(() => new Model(m as never).validate(), file).not.toThrow();
      expect(m.metadata.namespace, `${file} must not name a namespace (users apply with -n)`).toBeUndefined();
      expect(m.metadata.labels?.['app.kubernetes.io/name'], file).toBe('vigil');
    }
  });

  it('would catch an object that does not validate', () => {
    const broken = structuredClone(node);
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'eight thousand';
    expect(() => new Deployment(broken as never).validate()).toThrow(/containerPort/);
  });

  it('probes readiness and liveness on the port vigil listens on', () => {
    const cmd = nodeContainer.command ?? [];
    const port = Number(cmd[cmd.indexOf('--port') + 1]);
    expect(cmd.slice(0, 3)).toEqual(['node', 'bin/vigil.mjs', 'start']);
    expect(cmd[cmd.indexOf('--host') + 1]).toBe('0.0.0.0');
    const named = new Map((nodeContainer.ports ?? []).map((p) => [p.name, p.containerPort]));
    const portOf = (p: string | number | undefined) => (typeof p === 'string' ? named.get(p) : p);
    expect(nodeContainer.readinessProbe?.httpGet?.path).toBe('/v2/health/ready');
    expect(portOf(nodeContainer.readinessProbe?.httpGet?.port)).toBe(port);
    expect(nodeContainer.livenessProbe?.httpGet?.path).toBe('/v2/health/live');
    expect(portOf(nodeContainer.livenessProbe?.httpGet?.port)).toBe(port);
    expect(port).toBe(8000);
  });

  it('drains: a preStop wait, then more grace than the wait plus vigil.yaml’s drain timeout', () => {
    const preStop = nodeContainer.lifecycle?.preStop?.exec?.command ?? [];
    expect(preStop[0]).toBe('sleep');
    const sleep = Number(preStop[1]);
    expect(sleep).toBeGreaterThan(0);
    const drain = Math.max(...config.deployments.map((d) => d.graceful_shutdown_timeout_s));
    expect(drain).toBe(20); // the schema's default, which the repo's vigil.yaml keeps
    expect(nodePod.spec.terminationGracePeriodSeconds).toBeGreaterThan(sleep + drain);
  });

  it('pins ingress.processes in the ConfigMap, where `auto` would count the machine and not the pod', () => {
    const text = (one('ConfigMap', 'vigil-config') as unknown as { data: Record<string, string> }).data['vigil.yaml']!;
    // Direct ingress (the default): the one dedicated process that stands by.
    expect((parse(text) as { ingress?: { processes?: unknown } }).ingress?.processes).toBe(1);
    // Everything else is the repository's vigil.yaml, comments included.
    expect(text.startsWith(readFileSync(CONFIG_FILE, 'utf8').trimEnd())).toBe(true);
    const named = pinIngressProcesses('ingress:\n  processes: 3\ndeployments: []\n');
    expect(named).toBe('ingress:\n  processes: 3\ndeployments: []\n');
    expect(parse(pinIngressProcesses('ingress:\n  processes: auto\n'))).toEqual({ ingress: { processes: 1 } });
    expect(parse(pinIngressProcesses('ingress:\n  direct: false\n'))).toEqual({
      ingress: { direct: false, processes: 2 },
    });
  });

  it('sizes the node and the console from inputs/measured-memory.json by its formula', () => {
    // Direct ingress: one standby process, and each replica also holds a data plane's peak.
    const ingressProcesses = 1;
    let bytes = memory.primary_rss_bytes.peak + ingressProcesses * memory.ingress_rss_bytes.peak;
    for (const d of config.deployments) {
      for (const v of d.versions)
        bytes +=
          (d.autoscaling?.max_replicas ?? v.num_replicas) *
          (memory.replica_rss_bytes[d.name]!.peak + memory.ingress_rss_bytes.peak);
    }
    const nodeMi = `${Math.ceil((bytes * (1 + memory.headroom)) / 2 ** 20)}Mi`;
    // (198,164,480 + 340,234,240 + 2 × (195,321,856 + 340,234,240)) × 1.5 = 2,414,266,368 B
    expect(nodeMi).toBe('2303Mi');
    expect(nodeContainer.resources?.requests?.memory).toBe(nodeMi);
    expect(nodeContainer.resources?.limits?.memory).toBe(nodeMi);
    const threads = config.deployments.reduce(
      (n, d) => n + d.versions.reduce((m, v) => m + v.num_replicas * (d.intra_op_threads + 0.5), 0),
      0,
    );
    expect(nodeContainer.resources?.requests?.cpu).toBe(String(0.5 + ingressProcesses * 0.5 + threads));
    expect(nodeContainer.resources?.limits?.cpu).toBeUndefined();
    const consoleMi = `${Math.ceil((memory.console_rss_bytes.peak * (1 + memory.headroom)) / 2 ** 20)}Mi`;
    expect(consoleContainer.resources?.requests?.memory).toBe(consoleMi);
    expect(consoleContainer.resources?.limits?.memory).toBe(consoleMi);
  });

  it('takes DATABASE_URL from a Secret and ships no secret value', () => {
    const db = env(nodeContainer, 'DATABASE_URL');
    expect(db.value).toBeUndefined();
    expect(db.valueFrom?.secretKeyRef).toEqual({ name: 'vigil-database', key: 'DATABASE_URL' });
    expect(manifests.map((m) => m.kind)).not.toContain('Secret');
    for (const text of Object.values(committed)) expect(text).not.toMatch(/postgres(ql)?:\/\//);
  });

  it('runs the node without its built-in console, and keeps Service links out of vigil’s environment', () => {
    expect(env(nodeContainer, 'VIGIL_CONSOLE').value).toBe('0');
    // Each node is named after its pod and advertises its pod address to the others.
    expect(env(nodeContainer, 'VIGIL_NODE_NAME').valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    expect(env(nodeContainer, 'POD_IP').valueFrom?.fieldRef?.fieldPath).toBe('status.podIP');
    expect(env(nodeContainer, 'VIGIL_ADVERTISE_URL').value).toBe(
      `http://$(POD_IP):${nodeContainer.ports![0]!.containerPort}`,
    );
    // Kubernetes expands $(POD_IP) only from a variable defined earlier in the list.
    const names = (nodeContainer.env ?? []).map((e) => e.name);
    expect(names.indexOf('POD_IP')).toBeLessThan(names.indexOf('VIGIL_ADVERTISE_URL'));
    // A Service named vigil would inject VIGIL_PORT=tcp://..., which vigil's env schema refuses.
    expect(nodePod.spec.enableServiceLinks).toBe(false);
    expect(consoleDeployment.spec.template.spec.enableServiceLinks).toBe(false);
  });

  it('mounts the repo’s vigil.yaml from the ConfigMap where the command reads it, and rolls pods when it changes', () => {
    const text = pinControlListener(pinIngressProcesses(readFileSync(CONFIG_FILE, 'utf8')));
    const cm = one('ConfigMap', 'vigil-config');
    expect(cm.data?.['vigil.yaml']).toBe(text);
    const cmd = nodeContainer.command ?? [];
    const path = cmd[cmd.indexOf('-c') + 1];
    const mount = (nodeContainer.volumeMounts ?? []).find((m) => m.mountPath === path);
    expect(mount?.subPath).toBe('vigil.yaml');
    const volume = nodePod.spec.volumes.find((v: { name: string }) => v.name === mount?.name);
    expect(volume.configMap.name).toBe('vigil-config');
    // The image's WORKDIR, so relative model paths resolve as they do in the repository.
    expect(path).toBe('/app/vigil.yaml');
    expect(nodePod.metadata.annotations['vigil.dev/config-sha256']).toBe(
      createHash('sha256').update(text).digest('hex'),
    );
  });

  it('has a Service and a PodDisruptionBudget that select the node pods, and only them', () => {
    const podLabels = nodePod.metadata.labels;
    expect(selects(node.spec.selector.matchLabels, podLabels)).toBe(true);
    expect(selects(nodeService.spec.selector, podLabels)).toBe(true);
    expect(selects(nodeService.spec.selector, consoleDeployment.spec.template.metadata.labels)).toBe(false);
    const pdb = one('PodDisruptionBudget', 'vigil');
    expect(selects(pdb.spec.selector.matchLabels, podLabels)).toBe(true);
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(nodeService.spec.ports).toContainEqual(expect.objectContaining({ port: 8000, targetPort: 'http' }));
  });

  it('has a ServiceMonitor that scrapes /metrics through the node Service', () => {
    const sm = one('ServiceMonitor', 'vigil');
    expect(selects(sm.spec.selector.matchLabels, nodeService.metadata.labels)).toBe(true);
    expect(sm.spec.endpoints).toHaveLength(1);
    expect(sm.spec.endpoints[0].path).toBe('/metrics');
    expect(nodeService.spec.ports.map((p: { name: string }) => p.name)).toContain(sm.spec.endpoints[0].port);
  });

  it('sends the console and the scrape to the control listener the ConfigMap opens on every address', () => {
    // What the pods run: the config in the ConfigMap, validated as vigil validates it.
    const config = parse(one('ConfigMap', 'vigil-config').data!['vigil.yaml']!) as { control: unknown };
    expect(config.control).toEqual({ port: 8002, host: '0.0.0.0' });
    const controlPort = (nodeContainer.ports ?? []).find((p) => p.name === 'control');
    expect(controlPort?.containerPort).toBe(8002);
    const servicePort = nodeService.spec.ports.find((p: { name: string }) => p.name === 'control');
    expect(servicePort).toMatchObject({ port: 8002, targetPort: 'control' });
    expect(one('ServiceMonitor', 'vigil').spec.endpoints[0].port).toBe('control');
    expect(new URL(env(consoleContainer, 'VIGIL_API_URL').value!).port).toBe('8002');
    // A port the file names is kept.
    expect(pinControlListener('control:\n  port: 9100\ndeployments: []\n')).toContain('port: 9100');
  });

  it('has a PrometheusRule whose groups are what `vigil slo rules -c vigil.yaml` prints', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-k8s-'));
    try {
      const out = join(dir, 'rules.yml');
      await sloRulesCommand(CONFIG_FILE, out);
      const printed = parse(readFileSync(out, 'utf8')) as { groups: unknown[] };
      expect(printed.groups.length).toBeGreaterThan(0);
      expect(one('PrometheusRule', 'vigil-slos').spec.groups).toEqual(printed.groups);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('scales the vigil Deployment on vigil’s own load gauges through KEDA, up to MAX_NODES', () => {
    const so = one('ScaledObject', 'vigil');
    expect(so.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'vigil' });
    expect(so.spec.maxReplicaCount).toBe(MAX_NODES);
    // Two at least: a follower is there to take the leadership over when a node goes.
    expect(so.spec.minReplicaCount).toBeGreaterThanOrEqual(2);
    expect(so.spec.minReplicaCount).toBeLessThanOrEqual(MAX_NODES);
    // A fixed count on the Deployment would fight the scaler at every apply, once it may scale.
    if (MAX_NODES > 1) expect(node.spec.replicas).toBeUndefined();
    else expect(node.spec.replicas).toBe(1);
    expect(so.spec.triggers).toHaveLength(1);
    const trigger = so.spec.triggers[0];
    expect(trigger.type).toBe('prometheus');
    expect(trigger.metadata.query).toBe(LOAD_QUERY);
    expect(Number(trigger.metadata.threshold)).toBeGreaterThan(0);
    const metrics = new VigilMetrics(() => [], { deployments: () => [], memoryCapped: () => false });
    try {
      const registered = new Map(
        metrics.registry.getMetricsAsArray().map((m) => [m.name, (m as unknown as { type: string }).type]),
      );
      const used = [...LOAD_QUERY.matchAll(/\b(vigil_[a-z_]+)\{/g)].map((m) => m[1]!);
      expect(used).toEqual(['vigil_ongoing_requests', 'vigil_queued_requests']);
      for (const name of used) expect(registered.get(name), name).toBe('gauge');
    } finally {
      metrics.stop();
    }
    // The ServiceMonitor's targets carry service="<Service name>", which the query selects on.
    expect(LOAD_QUERY).toContain(`service="${nodeService.metadata.name}"`);
  });

  it('runs the console as its own Deployment, pointed at the node Service', () => {
    // What `vigil start` runs: Next.js behind the layer that sets addresses and security headers.
    expect(consoleContainer.command).toEqual([
      'node',
      'serving/console/console-server.mjs',
      '--port',
      '3000',
      '--host',
      '0.0.0.0',
    ]);
    expect(existsSync(join(OUTPUT_DIR, '../..', consoleContainer.command![1]!))).toBe(true);
    const api = new URL(env(consoleContainer, 'VIGIL_API_URL').value!);
    expect(api.hostname).toBe(nodeService.metadata.name);
    expect(nodeService.spec.ports.map((p: { port: number }) => p.port)).toContain(Number(api.port));
    expect(env(consoleContainer, 'NEXT_TELEMETRY_DISABLED').value).toBe('1');
    expect(consoleContainer.image).toBe(nodeContainer.image);
    const consoleService = one('Service', 'vigil-console');
    expect(selects(consoleService.spec.selector, consoleDeployment.spec.template.metadata.labels)).toBe(true);
    expect(selects(consoleService.spec.selector, nodePod.metadata.labels)).toBe(false);
  });

  it('contains PromQL that promtool parses (the rules and the scaler’s query)', async (ctx) => {
    if (!haveProgram('promtool', "checks the manifests' PromQL")) return ctx.skip();
    const dir = mkdtempSync(join(tmpdir(), 'vigil-k8s-promtool-'));
    try {
      const groups = [
        ...one('PrometheusRule', 'vigil-slos').spec.groups,
        { name: 'vigil-k8s-scaler', rules: [{ record: 'vigil:test:scaler_load', expr: LOAD_QUERY }] },
      ];
      const file = join(dir, 'rules.yml');
      writeFileSync(file, stringify({ groups }));
      execFileSync('promtool', ['check', 'rules', file], { stdio: 'pipe' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
