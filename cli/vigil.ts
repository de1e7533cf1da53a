import { parseArgs } from 'node:util';
import { readEnv } from '../serving/config/env.ts';
import { startCommand } from './start.ts';
import { shutdownCommand, statusCommand } from './remote.ts';
import { sloRulesCommand } from './slo-rules.ts';
import { migrateCommand, tokenCreateCommand } from './database-commands.ts';

const USAGE = `usage: vigil <command> [options]

commands:
  start     [-c FILE] [--host H] [--port P]   serve the deployments in FILE (default ./vigil.yaml)
  status    [--json] [--url URL]              deployments and replicas of a running node
  shutdown  [--url URL]                       drain and stop a running node
  slo rules [-c FILE] [-o OUT]                Prometheus recording and alert rules for the SLOs in FILE
  migrate                                     apply database migrations (start does this too)
  token create --role R [--name N]            create an API token (viewer, operator or admin); printed once

environment: VIGIL_CONFIG, VIGIL_HOST, VIGIL_PORT, VIGIL_LOG_LEVEL, VIGIL_LOG_FORMAT=pretty,
             VIGIL_TOKEN (bearer token for status/shutdown), DATABASE_URL, VIGIL_DATA_DIR`;

async function main(argv: string[]): Promise<void> {
  const env = readEnv();
  const [command, ...rest] = argv;
  const defaultUrl = `http://${env.VIGIL_HOST}:${env.VIGIL_PORT}`;
  switch (command) {
    case 'start': {
      const { values } = parseArgs({ args: rest, options: { config: { type: 'string', short: 'c' }, host: { type: 'string' }, port: { type: 'string', short: 'p' } } });
      let port: number | undefined;
      if (values.port !== undefined) {
        port = Number(values.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port: expected an integer in 0..65535, got ${JSON.stringify(values.port)}`);
      }
      await startCommand({ config: values.config, host: values.host, port }, env);
      return;
    }
    case 'status': {
      const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' }, url: { type: 'string' } } });
      await statusCommand(values.url ?? defaultUrl, values.json ?? false, env.VIGIL_TOKEN);
      return;
    }
    case 'slo': {
      const [sub, ...args] = rest;
      if (sub !== 'rules') fail(`unknown command "slo ${sub ?? ''}"; try "vigil slo rules"`);
      const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' }, out: { type: 'string', short: 'o' } } });
      await sloRulesCommand(values.config ?? env.VIGIL_CONFIG, values.out);
      return;
    }
    case 'migrate':
      await migrateCommand(env);
      return;
    case 'token': {
      const [sub, ...args] = rest;
      if (sub !== 'create') fail(`unknown command "token ${sub ?? ''}"; try "vigil token create --role operator"`);
      const { values } = parseArgs({ args, options: { role: { type: 'string' }, admin: { type: 'boolean' }, name: { type: 'string' }, url: { type: 'string' } } });
      const role = values.admin ? 'admin' : values.role;
      if (!role) fail('token create needs --role viewer|operator|admin');
      await tokenCreateCommand(env, values.url ?? defaultUrl, role, values.name ?? `${role}-${new Date().toISOString().slice(0, 10)}`, env.VIGIL_TOKEN);
      return;
    }
    case 'shutdown': {
      const { values } = parseArgs({ args: rest, options: { url: { type: 'string' } } });
      await shutdownCommand(values.url ?? defaultUrl, env.VIGIL_TOKEN);
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
  process.exit(1);
});
