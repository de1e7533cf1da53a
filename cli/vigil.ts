import { parseArgs } from 'node:util';
import { readEnv } from '../serving/config/env.ts';
import { DEFAULT_PORT, withDataDir } from '../serving/config/data-dir.ts';
import { readNodeRecord } from './node-record.ts';
import { ArtifactError } from '../serving/registry/artifact-error.ts';

const USAGE = `usage: vigil <command> [options]

commands:
  start     [-c FILE] [--host H] [--port P] [--console-port P]
                                              serve the deployments in FILE (default ./vigil.yaml)
  status    [--json] [--url URL | --port P]   deployments and replicas of a running node
  shutdown  [--url URL | --port P]            drain and stop a running node
  slo rules [-c FILE] [-o OUT]                Prometheus recording and alert rules for the SLOs in FILE
  migrate                                     apply database migrations (start does this too)
  token create --role R [--name N]            create an API token (viewer, operator or admin); printed once
  user add NAME --admin | --role R            create a console user; the password is asked for (or read from stdin)
  user set NAME [--role R] [--disable|--enable] [--password]
                                              change a console user (through the node); ends their sessions
  user logout NAME                            end every open session of a console user
  console build                               build the web console now (start builds it when its sources changed)
  rollout start DEPLOYMENT --version V [--steps 5,25,50,100] [--interval 30s]
                                              start an SLO-gated canary rollout of version V
  rollout status DEPLOYMENT [--json]          the rollout's step, weight and last analysis
  rollout pause|resume|promote|abort DEPLOYMENT
                                              act on the active rollout (abort rolls back)
  weights set DEPLOYMENT V1=90 V2=10          set the traffic split by hand (no rollout active)
  pack MODEL.onnx --name N --version V [--handler H.ts]
                                              store a versioned, content-addressed artifact (model: N:V)
  models list [--json] | show N:V | rm N:V    the packed artifacts
  build [-c FILE] -o DIR                      a self-contained bundle: config, artifacts, lockfile, Dockerfile

Every command takes -c FILE (default ./vigil.yaml, or VIGIL_CONFIG): each config keeps its state
(the embedded database, packed models, the running node's address) in a data directory beside it,
.vigil for vigil.yaml and .vigil-NAME for NAME.yaml, unless VIGIL_DATA_DIR names one.
Commands that talk to a running node take --url URL or --port P; without them they use VIGIL_PORT,
else the node that \`vigil start\` with the same config recorded, else port 8000.

environment: VIGIL_CONFIG, VIGIL_HOST, VIGIL_PORT, VIGIL_CONSOLE_PORT, VIGIL_LOG_LEVEL,
             VIGIL_LOG_FORMAT=pretty, VIGIL_TOKEN (bearer token for the API), DATABASE_URL,
             VIGIL_DATA_DIR`;

/** Every command takes -c: it names the config, and so the state (data-dir.ts) it is about. */
const CONFIG_OPTION = { config: { type: 'string', short: 'c' } } as const;

/** The -c of a command line, read before the command parses the rest. */
function configOption(args: string[]): string | undefined {
  const { values } = parseArgs({ args, options: CONFIG_OPTION, strict: false, allowPositionals: true });
  return typeof values.config === 'string' ? values.config : undefined;
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const baseEnv = readEnv();
  const env = withDataDir(baseEnv, configOption(rest) ?? baseEnv.VIGIL_CONFIG);
  /**
   * The node a command talks to: --url, else --port on VIGIL_HOST, else VIGIL_PORT, else the node
   * that `vigil start` recorded in this config's data directory, else port 8000.
   */
  const nodeUrl = (values: { url?: string; port?: string }): string => {
    if (values.url !== undefined) return values.url;
    if (values.port !== undefined) {
      const port = Number(values.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535)
        fail(`--port: expected an integer in 1..65535, got ${JSON.stringify(values.port)}`);
      return `http://${env.VIGIL_HOST}:${port}`;
    }
    if (env.VIGIL_PORT !== undefined) return `http://${env.VIGIL_HOST}:${env.VIGIL_PORT}`;
    return readNodeRecord(env.VIGIL_DATA_DIR)?.url ?? `http://${env.VIGIL_HOST}:${DEFAULT_PORT}`;
  };
  switch (command) {
    case 'start': {
      const { values } = parseArgs({
        args: rest,
        options: {
          ...CONFIG_OPTION,
          host: { type: 'string' },
          port: { type: 'string', short: 'p' },
          'console-port': { type: 'string' },
        },
      });
      const portOption = (name: string, value: string | undefined): number | undefined => {
        if (value === undefined) return undefined;
        const port = Number(value);
        if (!Number.isInteger(port) || port < 0 || port > 65535)
          fail(`--${name}: expected an integer in 0..65535, got ${JSON.stringify(value)}`);
        return port;
      };
      const { startCommand } = await import('./start.ts');
      await startCommand(
        {
          config: values.config ?? env.VIGIL_CONFIG,
          host: values.host,
          port: portOption('port', values.port),
          consolePort: portOption('console-port', values['console-port']),
        },
        env,
      );
      return;
    }
    case 'status': {
      const { values } = parseArgs({
        args: rest,
        options: {
          ...CONFIG_OPTION,
          json: { type: 'boolean' },
          url: { type: 'string' },
          port: { type: 'string' },
        },
      });
      const { statusCommand } = await import('./remote.ts');
      await statusCommand(nodeUrl(values), values.json ?? false, env.VIGIL_TOKEN);
      return;
    }
    case 'slo': {
      const [sub, ...args] = rest;
      if (sub !== 'rules') fail(`unknown command "slo ${sub ?? ''}"; try "vigil slo rules"`);
      const { values } = parseArgs({
        args,
        options: {
          ...CONFIG_OPTION,
          out: { type: 'string', short: 'o' },
        },
      });
      const { sloRulesCommand } = await import('./slo-rules.ts');
      await sloRulesCommand(values.config ?? env.VIGIL_CONFIG, values.out);
      return;
    }
    case 'migrate': {
      const { migrateCommand } = await import('./database-commands.ts');
      await migrateCommand(env);
      return;
    }
    case 'token': {
      const [sub, ...args] = rest;
      if (sub !== 'create') fail(`unknown command "token ${sub ?? ''}"; try "vigil token create --role operator"`);
      const { values } = parseArgs({
        args,
        options: {
          ...CONFIG_OPTION,
          role: { type: 'string' },
          admin: { type: 'boolean' },
          name: { type: 'string' },
          url: { type: 'string' },
          port: { type: 'string' },
        },
      });
      const role = values.admin ? 'admin' : values.role;
      if (!role) fail('token create needs --role viewer|operator|admin');
      const { tokenCreateCommand } = await import('./database-commands.ts');
      await tokenCreateCommand(
        env,
        nodeUrl(values),
        role,
        values.name ?? `${role}-${new Date().toISOString().slice(0, 10)}`,
        env.VIGIL_TOKEN,
      );
      return;
    }
    case 'console': {
      if (rest[0] !== 'build') fail('console build');
      const { ensureBuilt } = await import('../serving/console/console-process.ts');
      const { createLogger } = await import('../serving/logger.ts');
      if (!(await ensureBuilt(createLogger({ role: 'primary' })))) process.exit(1);
      return;
    }
    case 'user': {
      const [sub, ...args] = rest;
      const { userLogoutCommand, userSetCommand } = await import('./user-manage.ts');
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: {
          ...CONFIG_OPTION,
          role: { type: 'string' },
          admin: { type: 'boolean' },
          url: { type: 'string' },
          port: { type: 'string' },
          disable: { type: 'boolean' },
          enable: { type: 'boolean' },
          password: { type: 'boolean' },
        },
      });
      if (positionals.length !== 1) fail('user add|set|logout NAME ...');
      if (sub === 'set') {
        if (values.disable && values.enable) fail('user set: --disable or --enable, not both');
        const disabled = values.disable ? true : values.enable ? false : undefined;
        await userSetCommand(
          nodeUrl(values),
          positionals[0]!,
          { role: values.admin ? 'admin' : values.role, disabled, password: values.password ?? false },
          env.VIGIL_TOKEN,
        );
        return;
      }
      if (sub === 'logout') {
        await userLogoutCommand(nodeUrl(values), positionals[0]!, env.VIGIL_TOKEN);
        return;
      }
      if (sub !== 'add') fail('user add NAME --admin | --role viewer|operator|admin');
      const role = values.admin ? 'admin' : values.role;
      if (!role) fail('user add needs --admin or --role viewer|operator|admin');
      const { userAddCommand } = await import('./user-add.ts');
      await userAddCommand(env, nodeUrl(values), positionals[0]!, role, env.VIGIL_TOKEN);
      return;
    }
    case 'rollout': {
      const [sub, ...args] = rest;
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: {
          ...CONFIG_OPTION,
          version: { type: 'string' },
          steps: { type: 'string' },
          interval: { type: 'string' },
          json: { type: 'boolean' },
          url: { type: 'string' },
          port: { type: 'string' },
        },
      });
      const deployment = positionals[0];
      if (!deployment) fail(`rollout ${sub ?? ''}: name the deployment, e.g. "vigil rollout ${sub ?? 'status'} cls"`);
      const url = nodeUrl(values);
      const { rolloutActionCommand, rolloutStartCommand, rolloutStatusCommand } = await import('./rollout.ts');
      if (sub === 'start') {
        if (!values.version) fail('rollout start needs --version V (the canary)');
        const steps = values.steps?.split(',').map((s) => Number(s.trim()));
        if (steps?.some((s) => !Number.isInteger(s) || s < 1 || s > 100))
          fail(`--steps: expected comma-separated weights from 1 to 100, got ${JSON.stringify(values.steps)}`);
        await rolloutStartCommand(url, env.VIGIL_TOKEN, deployment, values.version, steps, values.interval);
      } else if (sub === 'status') await rolloutStatusCommand(url, env.VIGIL_TOKEN, deployment, values.json ?? false);
      else if (sub === 'pause' || sub === 'resume' || sub === 'promote' || sub === 'abort')
        await rolloutActionCommand(url, env.VIGIL_TOKEN, deployment, sub);
      else fail(`unknown command "rollout ${sub ?? ''}"; try start, status, pause, resume, promote or abort`);
      return;
    }
    case 'weights': {
      const [sub, ...args] = rest;
      if (sub !== 'set') fail(`unknown command "weights ${sub ?? ''}"; try "vigil weights set cls v1=90 v2=10"`);
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: {
          ...CONFIG_OPTION,
          url: { type: 'string' },
          port: { type: 'string' },
        },
      });
      const [deployment, ...pairs] = positionals;
      if (!deployment || pairs.length === 0) fail('weights set DEPLOYMENT V1=W1 [V2=W2 ...]');
      const { weightsSetCommand } = await import('./rollout.ts');
      await weightsSetCommand(nodeUrl(values), env.VIGIL_TOKEN, deployment, pairs);
      return;
    }
    case 'pack': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          ...CONFIG_OPTION,
          name: { type: 'string' },
          version: { type: 'string' },
          handler: { type: 'string' },
        },
      });
      if (positionals.length !== 1 || !values.name || !values.version)
        fail('pack MODEL.onnx --name N --version V [--handler H.ts]');
      const { packCommand } = await import('./models.ts');
      await packCommand(env, positionals[0]!, values.name, values.version, values.handler);
      return;
    }
    case 'models': {
      const [sub, ...args] = rest;
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: {
          ...CONFIG_OPTION,
          json: { type: 'boolean' },
        },
      });
      const { modelsListCommand, modelsRmCommand, modelsShowCommand } = await import('./models.ts');
      if (sub === 'list') await modelsListCommand(env, values.json ?? false);
      else if ((sub === 'show' || sub === 'rm') && positionals.length === 1)
        await (sub === 'show' ? modelsShowCommand : modelsRmCommand)(env, positionals[0]!);
      else fail('models list [--json] | models show NAME:VERSION | models rm NAME:VERSION');
      return;
    }
    case 'build': {
      const { values } = parseArgs({
        args: rest,
        options: {
          ...CONFIG_OPTION,
          out: { type: 'string', short: 'o' },
        },
      });
      if (!values.out) fail('build [-c FILE] -o DIR');
      const { buildCommand } = await import('./build.ts');
      await buildCommand(env, values.config ?? env.VIGIL_CONFIG, values.out);
      return;
    }
    case 'shutdown': {
      const { values } = parseArgs({
        args: rest,
        options: {
          ...CONFIG_OPTION,
          url: { type: 'string' },
          port: { type: 'string' },
        },
      });
      const { shutdownCommand } = await import('./remote.ts');
      await shutdownCommand(nodeUrl(values), env.VIGIL_TOKEN);
      return;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return;
    default:
      fail(`unknown command "${command}"\n${USAGE}`);
  }
}

function fail(message: string): never {
  process.stderr.write(`vigil: ${message}\n`);
  process.exit(2);
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`vigil: ${(err as Error).message ?? err}\n`);
  // A registry problem is the user's to fix (like a config error); anything else is a failure.
  process.exit(err instanceof ArtifactError ? 2 : 1);
});
