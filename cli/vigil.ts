import { parseArgs } from 'node:util';
import { readEnv } from '../serving/config/env.ts';
import { DEFAULT_PORT, withDataDir } from '../serving/config/data-dir.ts';
import { ArtifactError } from '../serving/registry/artifact-error.ts';
import { commandHelp, commandList, parseCommand, resolve, UsageError, usageLine } from './command-line.ts';
import { COMMANDS, type CommandContext } from './commands.ts';
import { readNodeRecord } from './node-record.ts';

const FOOTER = `Every command takes -c FILE (default ./vigil.yaml, or VIGIL_CONFIG): each config keeps its state
(the embedded database, packed models, the running node's address) in a data directory beside it,
.vigil for vigil.yaml and .vigil-NAME for NAME.yaml, unless VIGIL_DATA_DIR names one.
Commands that talk to a running node take --url URL or --port P; without them they use VIGIL_PORT,
else the node that \`vigil start\` with the same config recorded, else port 8000.
\`vigil COMMAND --help\` describes a command's options.

environment: VIGIL_CONFIG, VIGIL_HOST, VIGIL_PORT, VIGIL_CONSOLE_PORT, VIGIL_LOG_LEVEL,
             VIGIL_LOG_FORMAT=pretty, VIGIL_TOKEN (bearer token for the API), DATABASE_URL,
             VIGIL_DATA_DIR`;

const USAGE = `usage: vigil <command> [options]\n\ncommands:\n${commandList(COMMANDS)}\n\n${FOOTER}`;

/** The -c of a command line, read before the command parses the rest: it settles the state. */
function configOption(args: string[]): string | undefined {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string', short: 'c' } },
    strict: false,
    allowPositionals: true,
  });
  return typeof values.config === 'string' ? values.config : undefined;
}

const wantsHelp = (args: string[]) => args.includes('--help') || args.includes('-h');

async function main(argv: string[]): Promise<void> {
  const found = resolve(COMMANDS, argv);
  if (found.kind === 'top') {
    if (found.unknown) usage(`unknown command "${found.unknown}"`, USAGE);
    // `vigil help rollout start` is `vigil rollout start --help`.
    if (argv[0] === 'help' && argv.length > 1) return main([...argv.slice(1), '--help']);
    console.log(USAGE);
    return;
  }
  if (found.kind === 'group') {
    const list = `usage:\n${commandList(found.commands)}`;
    if (found.unknown && !wantsHelp(argv)) usage(`unknown command "${found.unknown}"`, list);
    if (wantsHelp(argv)) {
      console.log(list);
      return;
    }
    usage(`"${found.words.join(' ')}" needs a command`, list);
  }
  const { command, rest } = found;
  if (wantsHelp(rest)) {
    process.stdout.write(commandHelp(command));
    return;
  }
  const baseEnv = readEnv();
  const env = withDataDir(baseEnv, configOption(rest) ?? baseEnv.VIGIL_CONFIG);
  const ctx: CommandContext = {
    env,
    /**
     * --url, else --port on VIGIL_HOST, else VIGIL_PORT, else the node that `vigil start`
     * recorded in this config's data directory, else port 8000.
     */
    nodeUrl(values) {
      if (typeof values.url === 'string') return values.url;
      if (typeof values.port === 'string') {
        const port = Number(values.port);
        if (!Number.isInteger(port) || port < 1 || port > 65535)
          throw new UsageError(`--port: expected an integer in 1..65535, got ${JSON.stringify(values.port)}`);
        return `http://${env.VIGIL_HOST}:${port}`;
      }
      if (env.VIGIL_PORT !== undefined) return `http://${env.VIGIL_HOST}:${env.VIGIL_PORT}`;
      return readNodeRecord(env.VIGIL_DATA_DIR)?.url ?? `http://${env.VIGIL_HOST}:${DEFAULT_PORT}`;
    },
  };
  try {
    const { values, positionals } = parseCommand(command, rest);
    await command.run({ values, positionals, ctx });
  } catch (err) {
    if (err instanceof UsageError)
      usage(`${command.name}: ${err.message}`, `usage: ${usageLine(command)}\n(vigil ${command.name} --help)`);
    throw err;
  }
}

/** A usage mistake: what is wrong, how the command is used, exit 2. */
function usage(message: string, how: string): never {
  process.stderr.write(`vigil: ${message}\n${how}\n`);
  process.exit(2);
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`vigil: ${(err as Error).message ?? err}\n`);
  // A registry problem is the user's to fix (like a config error); anything else is a failure.
  process.exit(err instanceof ArtifactError ? 2 : 1);
});
