/**
 * Structural checks of the local docker compose stack (docker-compose.yml, Dockerfile,
 * deploy/compose/). No Docker engine runs here: these tests check that the pieces refer to each
 * other correctly (mounts, ports, targets, endpoints, uids), not that the containers start.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { haveProgram } from '../helpers/programs.ts';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

interface PortMapping {
  hostIp?: string;
  host?: number;
  container: number;
  protocol: string;
}

interface Mount {
  type: 'bind' | 'volume' | 'tmpfs';
  source?: string;
  target: string;
  readOnly: boolean;
}

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: Array<string | number | { target: number; published?: number | string; host_ip?: string; protocol?: string }>;
  expose?: Array<string | number>;
  volumes?: Array<string | { type: string; source?: string; target: string; read_only?: boolean }>;
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[] };
}

interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as ComposeFile;
const services = compose.services;

function service(name: string): Service {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
}

/** Compose's short port syntax ([ip:][host:]container[/proto]) or long syntax, normalised. */
function portsOf(s: Service): PortMapping[] {
  return (s.ports ?? []).map((p) => {
    if (typeof p === 'object') {
      return {
        hostIp: p.host_ip,
        host: p.published === undefined ? undefined : Number(p.published),
        container: Number(p.target),
        protocol: p.protocol ?? 'tcp',
      };
    }
    const [spec, protocol = 'tcp'] = String(p).split('/') as [string, string?];
    const parts = spec.split(':');
    const container = Number(parts.at(-1));
    const host = parts.length >= 2 ? Number(parts.at(-2)) : undefined;
    const hostIp = parts.length === 3 ? parts[0] : undefined;
    if (spec.includes('-')) throw new Error(`port ranges are not supported by this test: ${spec}`);
    return { hostIp, host, container, protocol };
  });
}

/** Ports a service listens on inside the compose network: published container ports and `expose`. */
function containerPorts(s: Service): Set<number> {
  return new Set([
    ...portsOf(s).map((p) => p.container),
    ...(s.expose ?? []).map((e) => Number(String(e).split('/')[0])),
  ]);
}

/** Compose's short volume syntax (source:target[:mode]) or long syntax, normalised. */
function mountsOf(s: Service): Mount[] {
  return (s.volumes ?? []).map((v) => {
    if (typeof v === 'object')
      return { type: v.type as Mount['type'], source: v.source, target: v.target, readOnly: v.read_only ?? false };
    const [source, target, mode = ''] = v.split(':') as [string, string?, string?];
    if (target === undefined) return { type: 'volume', target: source, readOnly: false };
    const bind = source.startsWith('.') || source.startsWith('/') || source.startsWith('~');
    return { type: bind ? 'bind' : 'volume', source, target, readOnly: mode.split(',').includes('ro') };
  });
}

/** The repository path of a bind mount's source, failing for anything outside the repository. */
function repoPath(source: string): string {
  const abs = resolve(ROOT, source);
  const rel = relative(ROOT, abs);
  if (rel.startsWith('..') || isAbsolute(rel)) throw new Error(`bind mount ${source} is outside the repository`);
  return abs;
}

/** The host path mounted at `target` in a service, or the host path of the file under a mounted directory. */
function hostPathFor(s: Service, target: string): string {
  for (const m of mountsOf(s)) {
    if (m.type !== 'bind' || !m.source) continue;
    if (target === m.target) return repoPath(m.source);
    if (target.startsWith(`${m.target}/`)) return join(repoPath(m.source), posix.relative(m.target, target));
  }
  throw new Error(`nothing is bind-mounted at ${target}`);
}

function environment(s: Service): Record<string, string> {
  const env = s.environment ?? {};
  if (Array.isArray(env))
    return Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v ?? '')]));
}

function yamlFile<T>(path: string): T {
  return parse(readFileSync(path, 'utf8')) as T;
}

/** The Dockerfile's instructions as [KEYWORD, rest], continuation lines joined, comments dropped. */
function dockerfileInstructions(): Array<[string, string]> {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\r?\n/g, ' ');
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^(\S+)\s+(.*)$/.exec(l);
      return [m![1]!.toUpperCase(), m![2]!];
    });
}

/** CMD or ENTRYPOINT as an argument list, from the exec (JSON) or shell form. */
function dockerfileCommand(): string[] {
  const args: string[] = [];
  for (const [keyword, rest] of dockerfileInstructions()) {
    if (keyword !== 'ENTRYPOINT' && keyword !== 'CMD') continue;
    args.push(...(rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(/\s+/)));
  }
  return args;
}

describe('docker-compose.yml', () => {
  it('defines the vigil stack', () => {
    expect(Object.keys(services).sort()).toEqual(['grafana', 'jaeger', 'postgres', 'prometheus', 'vigil']);
    expect(service('vigil').build).toBeDefined();
  });

  it('bind-mounts only paths that exist in the repository, and declares its named volumes', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const m of mountsOf(s)) {
        if (m.type === 'bind') {
          expect(existsSync(repoPath(m.source!)), `${name}: bind mount ${m.source} does not exist`).toBe(true);
          expect(m.readOnly, `${name}: config mount ${m.source} should be read-only`).toBe(true);
        } else if (m.type === 'volume' && m.source) {
          expect(
            Object.keys(compose.volumes ?? {}),
            `${name}: volume ${m.source} is not declared under volumes:`,
          ).toContain(m.source);
        }
      }
      const build = typeof s.build === 'string' ? { context: s.build } : s.build;
      if (build) {
        const context = repoPath(build.context ?? '.');
        expect(
          existsSync(join(context, build.dockerfile ?? 'Dockerfile')),
          `${name}: no Dockerfile in the build context`,
        ).toBe(true);
      }
    }
  });

  it('depends only on services it defines', () => {
    for (const [name, s] of Object.entries(services)) {
      const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
      for (const d of deps) expect(Object.keys(services), `${name} depends on unknown service ${d}`).toContain(d);
      if (!Array.isArray(s.depends_on)) {
        for (const [d, cond] of Object.entries(s.depends_on ?? {})) {
          if (cond.condition === 'service_healthy')
            expect(
              service(d).healthcheck,
              `${name} waits for ${d} to be healthy, but ${d} has no healthcheck`,
            ).toBeDefined();
        }
      }
    }
  });

  it('publishes each host port once', () => {
    const seen = new Map<string, string>();
    for (const [name, s] of Object.entries(services)) {
      for (const p of portsOf(s)) {
        if (p.host === undefined) continue;
        const key = `${p.host}/${p.protocol}`;
        expect(seen.get(key), `host port ${key} is published by both ${seen.get(key)} and ${name}`).toBeUndefined();
        seen.set(key, name);
      }
    }
  });

  it('has Prometheus scrape the vigil service on the port vigil listens on', () => {
    const prometheus = service('prometheus');
    const configTarget =
      (Array.isArray(prometheus.command) ? prometheus.command : [])
        .find((a) => a.startsWith('--config.file='))
        ?.slice('--config.file='.length) ?? '/etc/prometheus/prometheus.yml';
    const config = yamlFile<{
      rule_files?: string[];
      scrape_configs: Array<{ job_name: string; metrics_path?: string; static_configs: Array<{ targets: string[] }> }>;
    }>(hostPathFor(prometheus, configTarget));
    for (const pattern of config.rule_files ?? []) {
      const dir = posix.dirname(pattern);
      expect(statSync(hostPathFor(prometheus, dir)).isDirectory(), `rule_files ${pattern}: ${dir} is not mounted`).toBe(
        true,
      );
    }
    const job = config.scrape_configs.find((j) => j.job_name === 'vigil');
    expect(job, 'prometheus.yml has no vigil job').toBeDefined();
    expect(job!.metrics_path ?? '/metrics').toBe('/metrics');
    const targets = job!.static_configs.flatMap((c) => c.targets);
    expect(targets.length).toBeGreaterThan(0);
    for (const t of targets) {
      const [host, port] = t.split(':');
      expect(host, `scrape target ${t} is not a compose service`).toBe('vigil');
      expect([...containerPorts(service('vigil'))], `scrape target ${t}: vigil does not listen on ${port}`).toContain(
        Number(port),
      );
      const cmd = dockerfileCommand();
      expect(cmd[cmd.indexOf('--port') + 1], `scrape target ${t}: the Dockerfile starts vigil on another port`).toBe(
        port,
      );
    }
  });

  it("mounts the generated dashboards where Grafana's provisioning looks for them", () => {
    const grafana = service('grafana');
    const dashboardsMount = mountsOf(grafana).find(
      (m) => m.type === 'bind' && repoPath(m.source!) === join(ROOT, 'dashboards', 'grafana'),
    );
    expect(dashboardsMount, 'dashboards/grafana is not mounted into grafana').toBeDefined();
    const providersDir = hostPathFor(grafana, '/etc/grafana/provisioning/dashboards');
    const providers = readdirSync(providersDir)
      .filter((f) => /\.ya?ml$/.test(f))
      .flatMap(
        (f) =>
          yamlFile<{ providers: Array<{ type: string; options: { path: string } }> }>(join(providersDir, f)).providers,
      );
    expect(providers.length).toBeGreaterThan(0);
    expect(providers.map((p) => p.options.path)).toContain(dashboardsMount!.target);
    for (const p of providers) {
      expect(p.type).toBe('file');
      const host = hostPathFor(grafana, p.options.path);
      expect(
        statSync(host).isDirectory() && readdirSync(host).some((f) => f.endsWith('.json')),
        `${p.options.path} holds no dashboards`,
      ).toBe(true);
    }
    const home = environment(grafana).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
    if (home) expect(existsSync(hostPathFor(grafana, home)), `home dashboard ${home} is not mounted`).toBe(true);
  });

  it('provisions the Prometheus datasource uid the dashboards default to, at the prometheus service', () => {
    const grafana = service('grafana');
    const dir = hostPathFor(grafana, '/etc/grafana/provisioning/datasources');
    type Datasource = {
      uid: string;
      type: string;
      url: string;
      jsonData?: { exemplarTraceIdDestinations?: Array<{ datasourceUid?: string }> };
    };
    const datasources = readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .flatMap((f) => yamlFile<{ datasources: Datasource[] }>(join(dir, f)).datasources);
    const prom = datasources.filter((d) => d.type === 'prometheus');
    expect(prom).toHaveLength(1);
    const url = new URL(prom[0]!.url);
    expect(url.hostname).toBe('prometheus');
    expect([...containerPorts(service('prometheus'))]).toContain(Number(url.port));
    const uids = new Set(datasources.map((d) => d.uid));
    for (const dest of prom[0]!.jsonData?.exemplarTraceIdDestinations ?? []) {
      if (dest.datasourceUid)
        expect(uids, `exemplar link to unknown datasource ${dest.datasourceUid}`).toContain(dest.datasourceUid);
    }

    // What Grafana actually loads: the committed JSON in the mounted folder.
    const dashboardsDir = join(ROOT, 'dashboards', 'grafana');
    const files = readdirSync(dashboardsDir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const d = JSON.parse(readFileSync(join(dashboardsDir, f), 'utf8')) as {
        templating: { list: Array<{ name: string; type: string; query: unknown; current?: { value: unknown } }> };
        panels: Array<{
          type: string;
          datasource?: { uid?: string };
          targets?: Array<{ datasource?: { uid?: string } }>;
        }>;
      };
      const variable = d.templating.list.find((v) => v.type === 'datasource');
      expect(variable, `${f} has no datasource variable`).toBeDefined();
      expect(variable!.query).toBe('prometheus');
      expect(variable!.current?.value, `${f}: the datasource variable defaults to another uid than provisioned`).toBe(
        prom[0]!.uid,
      );
      for (const p of d.panels.filter((x) => x.type !== 'row')) {
        for (const ref of [p.datasource, ...(p.targets ?? []).map((t) => t.datasource)]) {
          const uid = ref?.uid;
          expect(uid === `\${${variable!.name}}` || uids.has(uid ?? ''), `${f}: a panel uses datasource ${uid}`).toBe(
            true,
          );
        }
      }
    }
  });

  it("sends vigil's traces to a port jaeger exposes for OTLP", () => {
    const env = environment(service('vigil'));
    const endpoint = new URL(env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '');
    expect(endpoint.protocol).toBe('http:');
    expect(endpoint.hostname).toBe('jaeger');
    expect(Object.keys(services)).toContain(endpoint.hostname);
    const port = Number(endpoint.port || 80);
    expect(port, 'OTLP over HTTP is port 4318 (the exporter is @opentelemetry/exporter-trace-otlp-http)').toBe(4318);
    expect([...containerPorts(service('jaeger'))]).toContain(port);
    expect(environment(service('jaeger')).COLLECTOR_OTLP_ENABLED).toBe('true');
    expect(env.OTEL_SERVICE_NAME).toBe('vigil');
  });

  it('points DATABASE_URL at the postgres service with its user, password and database', () => {
    const env = environment(service('vigil'));
    const pg = environment(service('postgres'));
    const url = new URL(env.DATABASE_URL ?? '');
    expect(url.hostname).toBe('postgres');
    expect(url.username).toBe(pg.POSTGRES_USER);
    expect(decodeURIComponent(url.password)).toBe(pg.POSTGRES_PASSWORD);
    expect(url.pathname).toBe(`/${pg.POSTGRES_DB}`);
  });

  it('keeps Grafana private: no anonymous access, admin password from the environment, host port 3001', () => {
    const grafana = service('grafana');
    const env = environment(grafana);
    expect(env.GF_AUTH_ANONYMOUS_ENABLED).toBe('false');
    expect(env.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD(:-[^}]*)?\}$/);
    expect(portsOf(grafana).map((p) => `${p.host}:${p.container}`)).toEqual(['3001:3000']);
  });

  it('health-checks vigil on /v2/health/ready with node, since the slim image has no curl', () => {
    const test = service('vigil').healthcheck?.test;
    expect(Array.isArray(test) ? test.slice(0, 2) : test).toEqual(['CMD', 'node']);
    expect((test as string[]).join(' ')).toMatch(/fetch\('http:\/\/127\.0\.0\.1:8000\/v2\/health\/ready'\)/);
  });
});

describe('Dockerfile', () => {
  it('builds on node:20-bookworm-slim, installs with npm ci and runs bin/vigil.mjs start', () => {
    const instructions = dockerfileInstructions();
    expect(instructions.find(([k]) => k === 'FROM')?.[1]).toBe('node:20-bookworm-slim');
    expect(instructions.some(([k, rest]) => k === 'RUN' && /\bnpm ci\b/.test(rest))).toBe(true);
    const cmd = dockerfileCommand();
    expect(cmd.slice(0, 3)).toEqual(['node', 'bin/vigil.mjs', 'start']);
    expect(cmd).toEqual(expect.arrayContaining(['--host', '0.0.0.0']));
    expect(existsSync(join(ROOT, 'bin', 'vigil.mjs'))).toBe(true);
    // COPY of the lockfile and .npmrc must precede npm ci, or the install ignores them.
    const copied = instructions.filter(([k]) => k === 'COPY').map(([, rest]) => rest);
    expect(copied[0]).toMatch(/package-lock\.json/);
    expect(copied[0]).toMatch(/\.npmrc/);
  });

  it('has a .dockerignore that keeps the host node_modules, .vigil and .git out of the image', () => {
    const lines = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split(/\r?\n/)
      .map((l) => l.trim());
    for (const entry of ['node_modules', '.vigil', '.git']) expect(lines).toContain(entry);
  });
});

describe('deploy/compose/prometheus/prometheus.yml', () => {
  it('passes promtool check config', async (ctx) => {
    if (!haveProgram('promtool', 'checks prometheus.yml')) return ctx.skip();
    const file = join(ROOT, 'deploy', 'compose', 'prometheus', 'prometheus.yml');
    let output: string;
    try {
      output = execFileSync('promtool', ['check', 'config', '--syntax-only', file], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      throw new Error(`promtool check config failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
    expect(output).toContain('SUCCESS');
  });
});
