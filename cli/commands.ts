import type { NodeEnv } from '../serving/config/data-dir.ts';
import { bashCompletion, type CommandSpec, type OptionSpec, type OptionValues, UsageError } from './command-line.ts';

/** What every command gets besides its arguments. */
export interface CommandContext {
  env: NodeEnv;
  /** The node to talk to, from --url / --port or the defaults (vigil.ts says the order). */
  nodeUrl(values: OptionValues): string;
}

type Command = CommandSpec<CommandContext>;

// Each command's module loads only when it runs: `vigil status` does not load the server.

const CONFIG: Record<string, OptionSpec> = {
  config: {
    type: 'string',
    short: 'c',
    value: 'FILE',
    help: 'the config, and with it its state and its running node (default: VIGIL_CONFIG, else ./vigil.yaml)',
  },
};
const NODE: Record<string, OptionSpec> = {
  ...CONFIG,
  url: { type: 'string', value: 'URL', help: 'the node to talk to' },
  port: {
    type: 'string',
    value: 'P',
    help: 'the node on port P of VIGIL_HOST (default: VIGIL_PORT, else the one start recorded)',
  },
};
const JSON_OUTPUT: Record<string, OptionSpec> = {
  json: { type: 'boolean', help: 'print the raw JSON document instead of the summary' },
};
const ROLE: Record<string, OptionSpec> = {
  role: { type: 'string', value: 'R', help: 'viewer, operator or admin' },
  admin: { type: 'boolean', help: 'same as --role admin (wins over --role)' },
};

const str = (v: OptionValues[string]): string | undefined => (typeof v === 'string' ? v : undefined);

function portValue(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--${name}: expected an integer in 0..65535, got ${JSON.stringify(value)}`);
  return port;
}

const token = (ctx: CommandContext) => ctx.env.VIGIL_TOKEN;

const rolloutActions = ['pause', 'resume', 'promote', 'abort'] as const;
const rolloutActionHelp = {
  pause: 'hold the weights and stop the analysis',
  resume: 'start the current step over',
  promote: 'make the canary stable now',
  abort: 'send all traffic back to the stable version (a rollback)',
} as const;

export const COMMANDS: Command[] = [
  {
    name: 'start',
    summary: 'serve the deployments in the config until SIGTERM, Ctrl-C or `vigil shutdown`',
    options: {
      ...CONFIG,
      host: { type: 'string', value: 'H', help: 'address to listen on (default: VIGIL_HOST, else 127.0.0.1)' },
      port: {
        type: 'string',
        short: 'p',
        value: 'P',
        help: 'port to listen on; 0 picks a free one (default: VIGIL_PORT, else 8000)',
      },
      'console-port': {
        type: 'string',
        value: 'P',
        help: "the web console's port (default: VIGIL_CONSOLE_PORT, else console.port)",
      },
    },
    async run({ values, ctx }) {
      const port = portValue('port', str(values.port));
      const consolePort = portValue('console-port', str(values['console-port']));
      const { startCommand } = await import('./start.ts');
      await startCommand(
        { config: str(values.config) ?? ctx.env.VIGIL_CONFIG, host: str(values.host), port, consolePort },
        ctx.env,
      );
    },
  },
  {
    name: 'status',
    summary: 'the deployments and replicas of a running node',
    options: { ...NODE, ...JSON_OUTPUT },
    async run({ values, ctx }) {
      const { statusCommand } = await import('./remote.ts');
      await statusCommand(ctx.nodeUrl(values), values.json === true, token(ctx));
    },
  },
  {
    name: 'shutdown',
    summary: 'drain and stop a running node',
    options: NODE,
    async run({ values, ctx }) {
      const { shutdownCommand } = await import('./remote.ts');
      await shutdownCommand(ctx.nodeUrl(values), token(ctx));
    },
  },
  {
    name: 'slo rules',
    summary: 'Prometheus recording and alert rules for the SLOs in the config',
    options: {
      ...CONFIG,
      out: { type: 'string', short: 'o', value: 'OUT', help: 'write the rules file here instead of stdout' },
    },
    async run({ values, ctx }) {
      const { sloRulesCommand } = await import('./slo-rules.ts');
      await sloRulesCommand(str(values.config) ?? ctx.env.VIGIL_CONFIG, str(values.out));
    },
  },
  {
    name: 'doctor',
    summary: 'the machine, its heat and pressure, the execution providers, and what vigil will choose',
    options: { ...CONFIG, ...JSON_OUTPUT },
    async run({ values, ctx }) {
      const { loadConfigOrExit } = await import('./load-config-or-exit.ts');
      const { doctorCommand } = await import('./doctor.ts');
      await doctorCommand(
        loadConfigOrExit(str(values.config) ?? ctx.env.VIGIL_CONFIG),
        ctx.env.VIGIL_HOST_ROOT,
        values.json === true,
      );
    },
  },
  {
    name: 'migrate',
    summary: 'apply database migrations (start does this too)',
    options: CONFIG,
    async run({ ctx }) {
      const { migrateCommand } = await import('./database-commands.ts');
      await migrateCommand(ctx.env);
    },
  },
  {
    name: 'token create',
    summary: 'create an API token, printed once (through the node, else in the database)',
    options: {
      ...NODE,
      ...ROLE,
      name: { type: 'string', value: 'N', help: 'its name in the audit log (default: ROLE-DATE)' },
    },
    async run({ values, ctx }) {
      const role = values.admin ? 'admin' : str(values.role);
      if (!role) throw new UsageError('token create needs --role viewer|operator|admin');
      const { tokenCreateCommand } = await import('./database-commands.ts');
      const name = str(values.name) ?? `${role}-${new Date().toISOString().slice(0, 10)}`;
      await tokenCreateCommand(ctx.env, ctx.nodeUrl(values), role, name, token(ctx));
    },
  },
  {
    name: 'user add',
    args: 'NAME',
    positionals: [1, 1],
    summary: 'create a console user; the password is asked for (or read from stdin)',
    options: { ...NODE, ...ROLE },
    async run({ values, positionals, ctx }) {
      const role = values.admin ? 'admin' : str(values.role);
      if (!role) throw new UsageError('user add needs --admin or --role viewer|operator|admin');
      const { userAddCommand } = await import('./user-add.ts');
      await userAddCommand(ctx.env, ctx.nodeUrl(values), positionals[0]!, role, token(ctx));
    },
  },
  {
    name: 'user set',
    args: 'NAME',
    positionals: [1, 1],
    summary: "change a console user (through the node); ends the user's sessions",
    options: {
      ...NODE,
      ...ROLE,
      disable: { type: 'boolean', help: 'refuse the user from now on' },
      enable: { type: 'boolean', help: 'let a disabled user in again' },
      password: { type: 'boolean', help: 'set a new password (asked for, or read from stdin)' },
    },
    async run({ values, positionals, ctx }) {
      if (values.disable && values.enable) throw new UsageError('user set: --disable or --enable, not both');
      const disabled = values.disable ? true : values.enable ? false : undefined;
      const { userSetCommand } = await import('./user-manage.ts');
      await userSetCommand(
        ctx.nodeUrl(values),
        positionals[0]!,
        { role: values.admin ? 'admin' : str(values.role), disabled, password: values.password === true },
        token(ctx),
      );
    },
  },
  {
    name: 'user logout',
    args: 'NAME',
    positionals: [1, 1],
    summary: 'end every open session of a console user',
    options: NODE,
    async run({ values, positionals, ctx }) {
      const { userLogoutCommand } = await import('./user-manage.ts');
      await userLogoutCommand(ctx.nodeUrl(values), positionals[0]!, token(ctx));
    },
  },
  {
    name: 'console build',
    summary: 'build the web console now (start builds it when its sources changed)',
    options: {},
    async run() {
      const { ensureBuilt } = await import('../serving/console/console-process.ts');
      const { createLogger } = await import('../serving/logger.ts');
      if (!(await ensureBuilt(createLogger({ role: 'primary' })))) process.exit(1);
    },
  },
  {
    name: 'rollout start',
    args: 'DEPLOYMENT',
    positionals: [1, 1],
    summary: 'start an SLO-gated canary rollout',
    options: {
      ...NODE,
      version: { type: 'string', value: 'V', help: 'the canary version (required)' },
      steps: { type: 'string', value: 'LIST', help: "the canary's weights, e.g. 5,25,50,100 (the default)" },
      interval: { type: 'string', value: 'D', help: 'the least time each step lasts, e.g. 30s (the default)' },
    },
    async run({ values, positionals, ctx }) {
      const version = str(values.version);
      if (!version) throw new UsageError('rollout start needs --version V (the canary)');
      const raw = str(values.steps);
      const steps = raw?.split(',').map((s) => Number(s.trim()));
      if (steps?.some((s) => !Number.isInteger(s) || s < 1 || s > 100))
        throw new UsageError(`--steps: expected comma-separated weights from 1 to 100, got ${JSON.stringify(raw)}`);
      const { rolloutStartCommand } = await import('./rollout.ts');
      await rolloutStartCommand(ctx.nodeUrl(values), token(ctx), positionals[0]!, version, steps, str(values.interval));
    },
  },
  {
    name: 'rollout status',
    args: 'DEPLOYMENT',
    positionals: [1, 1],
    summary: "the rollout's step, weight and last analysis",
    options: { ...NODE, ...JSON_OUTPUT },
    async run({ values, positionals, ctx }) {
      const { rolloutStatusCommand } = await import('./rollout.ts');
      await rolloutStatusCommand(ctx.nodeUrl(values), token(ctx), positionals[0]!, values.json === true);
    },
  },
  ...rolloutActions.map(
    (action): Command => ({
      name: `rollout ${action}`,
      args: 'DEPLOYMENT',
      positionals: [1, 1],
      summary: `${rolloutActionHelp[action]} (the active rollout)`,
      options: NODE,
      async run({ values, positionals, ctx }) {
        const { rolloutActionCommand } = await import('./rollout.ts');
        await rolloutActionCommand(ctx.nodeUrl(values), token(ctx), positionals[0]!, action);
      },
    }),
  ),
  {
    name: 'probe run',
    args: 'DEPLOYMENT',
    positionals: [1, 1],
    summary: "run a deployment's probes against one version now",
    options: { ...NODE, version: { type: 'string', value: 'V', help: 'the version to probe (required)' } },
    async run({ values, positionals, ctx }) {
      const version = str(values.version);
      if (!version) throw new UsageError('probe run needs --version V');
      const { probeRunCommand } = await import('./probe.ts');
      await probeRunCommand(ctx.nodeUrl(values), token(ctx), positionals[0]!, version);
    },
  },
  {
    name: 'probe record',
    args: 'DEPLOYMENT [REQUEST.json...]',
    positionals: [1, 51],
    summary: 'print, as probes:, what a known-good version answers now (the configured probes, or these requests)',
    options: {
      ...NODE,
      version: { type: 'string', value: 'V', help: 'the known-good version (required)' },
      expect: { type: 'string', value: 'KIND', help: 'allclose (the default: the values) or top1 (the class)' },
    },
    async run({ values, positionals, ctx }) {
      const version = str(values.version);
      if (!version) throw new UsageError('probe record needs --version V');
      const expect = str(values.expect) ?? 'allclose';
      if (expect !== 'allclose' && expect !== 'top1')
        throw new UsageError(`--expect: expected allclose or top1, got ${JSON.stringify(expect)}`);
      const [deployment, ...files] = positionals;
      const { probeRecordCommand } = await import('./probe.ts');
      await probeRecordCommand(ctx.nodeUrl(values), token(ctx), deployment!, version, files, expect);
    },
  },
  {
    name: 'weights set',
    args: 'DEPLOYMENT VERSION=WEIGHT...',
    positionals: [2, 64],
    summary: 'set the traffic split by hand (no rollout active)',
    options: NODE,
    async run({ values, positionals, ctx }) {
      const [deployment, ...pairs] = positionals;
      const { weightsSetCommand } = await import('./rollout.ts');
      await weightsSetCommand(ctx.nodeUrl(values), token(ctx), deployment!, pairs);
    },
  },
  {
    name: 'pack',
    args: 'MODEL.onnx',
    positionals: [1, 1],
    summary: 'store a versioned, content-addressed artifact (a deployment then names it as NAME:VERSION)',
    options: {
      ...CONFIG,
      name: { type: 'string', value: 'N', help: "the artifact's name (required)" },
      version: { type: 'string', value: 'V', help: "the artifact's version (required)" },
      handler: { type: 'string', value: 'H.ts', help: 'a TypeScript handler packed with the model' },
    },
    async run({ values, positionals, ctx }) {
      const name = str(values.name);
      const version = str(values.version);
      if (!name || !version) throw new UsageError('pack needs --name N and --version V');
      const { packCommand } = await import('./models.ts');
      await packCommand(ctx.env, positionals[0]!, name, version, str(values.handler));
    },
  },
  {
    name: 'models list',
    summary: 'the packed artifacts',
    options: { ...CONFIG, ...JSON_OUTPUT },
    async run({ values, ctx }) {
      const { modelsListCommand } = await import('./models.ts');
      await modelsListCommand(ctx.env, values.json === true);
    },
  },
  ...(
    [
      ['show', 'a packed artifact: its files, hash, inputs and outputs'],
      ['rm', 'remove a packed artifact that no deployment uses'],
    ] as const
  ).map(
    ([sub, summary]): Command => ({
      name: `models ${sub}`,
      args: 'NAME:VERSION',
      positionals: [1, 1],
      summary,
      options: CONFIG,
      async run({ positionals, ctx }) {
        const models = await import('./models.ts');
        await (sub === 'show' ? models.modelsShowCommand : models.modelsRmCommand)(ctx.env, positionals[0]!);
      },
    }),
  ),
  {
    name: 'build',
    summary: 'a self-contained bundle: config, artifacts, lockfile, Dockerfile',
    options: { ...CONFIG, out: { type: 'string', short: 'o', value: 'DIR', help: 'where to write it (required)' } },
    async run({ values, ctx }) {
      const out = str(values.out);
      if (!out) throw new UsageError('build needs -o DIR');
      const { buildCommand } = await import('./build.ts');
      await buildCommand(ctx.env, str(values.config) ?? ctx.env.VIGIL_CONFIG, out);
    },
  },
  {
    name: 'completion bash',
    summary: 'a bash completion script for vigil: eval "$(vigil completion bash)"',
    options: {},
    async run() {
      process.stdout.write(bashCompletion(COMMANDS));
    },
  },
];
