import { loadConfigOrExit } from './load-config-or-exit.ts';
import { portUnavailable } from '../serving/port-check.ts';
import { secretFromEnv, withholdFromChildren } from '../serving/config/env.ts';
import { DEFAULT_PORT, type NodeEnv } from '../serving/config/data-dir.ts';
import { removeNodeRecord, writeNodeRecord, type NodeRecord } from './node-record.ts';

function hasSecret(name: string): boolean {
  try {
    secretFromEnv(name);
    return true;
  } catch {
    return false;
  }
}
import { createLogger } from '../serving/logger.ts';
import type { ControlPlane } from '../serving/control-plane.ts';
import type { ConsoleProcess } from '../serving/console/console-process.ts';

export interface StartOptions {
  config: string;
  host?: string;
  port?: number;
  consolePort?: number;
}

/**
 * `vigil start`: validate the config (or exit 2 having started nothing), then serve until
 * signalled. `env.VIGIL_DATA_DIR` is this config's own (data-dir.ts).
 */
export async function startCommand(opts: StartOptions, env: NodeEnv): Promise<void> {
  const log = createLogger({ role: 'primary' });
  const file = opts.config;
  const config = loadConfigOrExit(file);
  // Secrets are named in vigil.yaml and read from the environment; a missing one is a config error.
  const missing = config.alerting.webhooks.filter((w) => w.secret_env && !hasSecret(w.secret_env));
  if (missing.length) {
    process.stderr.write(
      `vigil: invalid configuration in ${file}:\n${missing
        .map(
          (w) =>
            `  alerting.webhooks[${config.alerting.webhooks.indexOf(w)}].secret_env: ` +
            `environment variable ${w.secret_env} is not set`,
        )
        .join('\n')}\n`,
    );
    process.exit(2);
  }
  const host = opts.host ?? env.VIGIL_HOST;
  const port = opts.port ?? env.VIGIL_PORT ?? DEFAULT_PORT;
  const unavailable = await portUnavailable(host, port);
  if (unavailable !== null) {
    const why =
      unavailable === 'EADDRINUSE' ? 'the address is in use (another vigil, or another program)' : unavailable;
    process.stderr.write(
      `vigil: cannot listen on ${host}:${port}: ${why}; choose another port with --port N or VIGIL_PORT\n`,
    );
    process.exit(1);
  }
  const control = config.control;
  const controlUnavailable = await portUnavailable(control.host, control.port);
  if (controlUnavailable !== null) {
    process.stderr.write(
      `vigil: cannot listen on ${control.host}:${control.port} (control.port): ${controlUnavailable}; ` +
        'choose another control.port in the config, or 0 for any free port\n',
    );
    process.exit(1);
  }
  // The server's modules load only now: a bad config or a busy port is reported in about a second.
  const [
    { VigilNode },
    { ControlPlane },
    { startTracing },
    { releaseStartupGarbage },
    { resolveConfigArtifacts },
    { artifactDir },
    { ConsoleProcess },
    { startProviderChoice },
    { nodeIdentity },
  ] = await Promise.all([
    import('../serving/node.ts'),
    import('../serving/control-plane.ts'),
    import('../serving/telemetry/tracing.ts'),
    import('../serving/memory/release-startup-garbage.ts'),
    import('../serving/registry/resolve-config.ts'),
    import('../serving/registry/artifact-store.ts'),
    import('../serving/console/console-process.ts'),
    import('../serving/controller/provider-choice.ts'),
    import('../serving/cluster/node-identity.ts'),
  ]);
  const tracing = startTracing(env, 'primary');
  if (tracing.enabled)
    log.info(
      { sampler: env.OTEL_TRACES_SAMPLER, ratio: env.OTEL_TRACES_SAMPLER_ARG },
      'exporting traces over OTLP/HTTP',
    );
  // Beside the database's opening: the probe is a process of its own.
  const providers = startProviderChoice(config);
  log.info(
    { data_dir: env.VIGIL_DATA_DIR, database: env.DATABASE_URL ? 'postgres' : 'pglite' },
    `state of ${file} in ${env.VIGIL_DATA_DIR}${env.DATABASE_URL ? ' (the database is DATABASE_URL)' : ''}`,
  );
  let plane: ControlPlane;
  try {
    plane = await ControlPlane.open({
      config,
      env,
      log,
      identity: nodeIdentity(env.VIGIL_NODE_NAME),
      externalUrl: config.alerting.external_url ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    });
  } catch (err) {
    process.stderr.write(`vigil: cannot open the database: ${(err as Error).message}\n`);
    await tracing.shutdown();
    process.exit(1);
  }
  // Opening the database left hundreds of MB of garbage outside the JavaScript heap; free it
  // before the replicas start, so the node never holds both.
  await releaseStartupGarbage();
  // The secrets are read; no child process (replicas, the console, its build) needs them, and a
  // child's environment is readable by anything that can read its /proc entry.
  withholdFromChildren([
    'DATABASE_URL',
    'VIGIL_TOKEN',
    ...config.alerting.webhooks.flatMap((w) => (w.secret_env ? [w.secret_env] : [])),
  ]);
  // Deployments may name packed models (`model: cls:v3`); their files are checked and located now.
  let resolved;
  try {
    resolved = await resolveConfigArtifacts(config, plane.database.db, artifactDir(env.VIGIL_DATA_DIR));
    resolved = await providers.apply(resolved, log);
  } catch (err) {
    process.stderr.write(`vigil: ${(err as Error).message}\n`);
    await plane.close();
    await tracing.shutdown();
    process.exit(2);
  }
  const node = new VigilNode({
    config: resolved,
    host,
    port,
    log,
    tracing,
    plane,
    recordMetrics: env.VIGIL_METRICS === 'on',
    advertiseUrl: env.VIGIL_ADVERTISE_URL,
    hostRoot: env.VIGIL_HOST_ROOT,
  });
  let webConsole: ConsoleProcess | undefined;
  const stop = (why: string) => {
    log.info({ why }, 'shutdown requested');
    Promise.all([node.shutdown(), webConsole?.stop()]).then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  node.onShutdownRequested = () => stop('api');
  let address;
  try {
    address = await node.start();
  } catch (err) {
    log.fatal({ err }, 'could not start');
    await node.shutdown().catch(() => undefined);
    process.exit(1);
  }
  if (!(await plane.tokensExist()))
    log.warn(
      'no API token exists: the control API (/api/v1) answers loopback callers only; create one with `vigil token create --role admin`',
    );
  log.info(
    { host: address.address, port: address.port, config: file, deployments: config.deployments.map((d) => d.name) },
    `vigil listening on http://${address.address}:${address.port}`,
  );
  const controlUrl = localUrl(node.controlAddress!);
  log.info({ control_url: controlUrl }, `control API and /metrics also on ${controlUrl}, off the data plane`);
  // The CLI's other commands, run with the same config, find this node by this record.
  const record: NodeRecord = {
    url: localUrl(address),
    control_url: controlUrl,
    console_url: null,
    pid: process.pid,
    config: file,
    started_at: new Date().toISOString(),
  };
  const saveRecord = (): void => {
    try {
      writeNodeRecord(env.VIGIL_DATA_DIR, record);
    } catch (err) {
      log.warn({ err }, `could not record this node in ${env.VIGIL_DATA_DIR}; other commands need --url or --port`);
    }
  };
  saveRecord();
  process.on('exit', () => removeNodeRecord(env.VIGIL_DATA_DIR));
  if (config.console.enabled && env.VIGIL_CONSOLE !== '0' && env.VIGIL_CONSOLE !== 'off') {
    // The console calls this node's API over loopback when the node listens on every address.
    const consolePort = opts.consolePort ?? env.VIGIL_CONSOLE_PORT;
    webConsole = new ConsoleProcess({
      config: config.console,
      port: consolePort ?? config.console.port,
      portIsExplicit: consolePort !== undefined,
      onListening: (url) => {
        record.console_url = url;
        saveRecord();
      },
      // The console's reads go to the control listener: its polling never passes through a replica.
      apiUrl: controlUrl,
      host,
      log: log.child({ component: 'console' }),
    });
    void webConsole.start().catch((err) => log.error({ err }, 'the web console did not start'));
  }
}

/** How a client on this machine reaches an address: loopback when it is every address. */
function localUrl(address: { address: string; port: number }): string {
  const host = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}
