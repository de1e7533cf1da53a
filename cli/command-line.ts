import { parseArgs } from 'node:util';

/**
 * A command line described as data: each command names its words, its positionals, its options
 * (with help), and what it runs. Matching, `--help` on every command and group, usage lines,
 * errors and the bash completion all come from this table, so they cannot disagree with what a
 * command accepts. Parsing is node:util `parseArgs` (no dependency: it does what vigil needs,
 * strict options, short flags, `--name=value`), wrapped so that its errors name the command and
 * show its usage (docs/decisions/0008-cli.md).
 */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** The value's placeholder in help: `--port P`. */
  value?: string;
  help: string;
}

export type OptionValues = Record<string, string | boolean | undefined>;

export interface CommandSpec<Ctx> {
  /** The command's words: `rollout start`. */
  name: string;
  /** Positionals as the usage line shows them: `DEPLOYMENT`, `NAME:VERSION`. */
  args?: string;
  /** How many positionals it takes: [least, most]; default none. */
  positionals?: [number, number];
  summary: string;
  options: Record<string, OptionSpec>;
  run(input: { values: OptionValues; positionals: string[]; ctx: Ctx }): Promise<void>;
}

/** A usage mistake: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

function optionSynopsis(name: string, o: OptionSpec): string {
  const flag = o.short ? `-${o.short}, --${name}` : `--${name}`;
  return o.type === 'string' ? `${flag} ${o.value ?? 'VALUE'}` : flag;
}

export function usageLine<Ctx>(c: CommandSpec<Ctx>): string {
  return `vigil ${c.name}${c.args ? ` ${c.args}` : ''}${Object.keys(c.options).length ? ' [options]' : ''}`;
}

/** `vigil <command> --help`. */
export function commandHelp<Ctx>(c: CommandSpec<Ctx>): string {
  const rows = Object.entries(c.options).map(([name, o]) => [optionSynopsis(name, o), o.help] as const);
  const width = Math.max(0, ...rows.map(([s]) => s.length));
  return [
    `usage: ${usageLine(c)}`,
    '',
    c.summary,
    ...(rows.length ? ['', 'options:', ...rows.map(([s, h]) => `  ${s.padEnd(width)}  ${h}`)] : []),
    '',
  ].join('\n');
}

/** The list of commands, for `vigil --help` (all) or `vigil rollout --help` (a group). */
export function commandList<Ctx>(commands: CommandSpec<Ctx>[]): string {
  const rows = commands.map((c) => [`${c.name}${c.args ? ` ${c.args}` : ''}`, c.summary] as const);
  const width = Math.min(26, Math.max(...rows.map(([s]) => s.length)));
  return rows
    .map(([s, h]) => (s.length > width ? `  ${s}\n  ${''.padEnd(width)}  ${h}` : `  ${s.padEnd(width)}  ${h}`))
    .join('\n');
}

export type Resolution<Ctx> =
  | { kind: 'command'; command: CommandSpec<Ctx>; rest: string[] }
  | { kind: 'group'; words: string[]; commands: CommandSpec<Ctx>[]; unknown?: string }
  | { kind: 'top'; unknown?: string };

/** Which command argv names: its longest match, a group (`rollout`), or nothing. */
export function resolve<Ctx>(commands: CommandSpec<Ctx>[], argv: string[]): Resolution<Ctx> {
  let best: CommandSpec<Ctx> | undefined;
  for (const c of commands) {
    const words = c.name.split(' ');
    if (words.every((w, i) => argv[i] === w) && words.length > (best?.name.split(' ').length ?? 0)) best = c;
  }
  if (best) return { kind: 'command', command: best, rest: argv.slice(best.name.split(' ').length) };
  const first = argv[0];
  if (first === undefined || first.startsWith('-') || first === 'help') return { kind: 'top' };
  const group = commands.filter((c) => c.name.split(' ')[0] === first);
  if (group.length === 0) return { kind: 'top', unknown: first };
  const next = argv[1];
  return {
    kind: 'group',
    words: [first],
    commands: group,
    unknown: next !== undefined && !next.startsWith('-') ? `${first} ${next}` : undefined,
  };
}

/** Parses a command's own arguments strictly; a mistake is a UsageError naming the command. */
export function parseCommand<Ctx>(
  c: CommandSpec<Ctx>,
  args: string[],
): { values: OptionValues; positionals: string[] } {
  const options = Object.fromEntries(
    Object.entries(c.options).map(([name, o]) => [name, o.short ? { type: o.type, short: o.short } : { type: o.type }]),
  );
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    // Node's messages end with advice about `--` that does not apply here.
    throw new UsageError(String((err as Error).message).replace(/\. To specify a positional argument.*$/s, ''));
  }
  const [least, most] = c.positionals ?? [0, 0];
  const n = parsed.positionals.length;
  if (n < least) throw new UsageError(`expected ${c.args ?? 'an argument'}`);
  if (n > most) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[most])}`);
  return { values: parsed.values as OptionValues, positionals: parsed.positionals };
}

/**
 * A bash completion script: `eval "$(vigil completion bash)"`. It completes command words, then
 * the options of the command they name.
 */
export function bashCompletion<Ctx>(commands: CommandSpec<Ctx>[]): string {
  const table = commands
    .map((c) => {
      const flags = Object.entries(c.options).flatMap(([n, o]) => [`--${n}`, ...(o.short ? [`-${o.short}`] : [])]);
      return `    '${c.name}|${[...flags, '--help'].join(' ')}'`;
    })
    .join('\n');
  return `# vigil bash completion: eval "$(vigil completion bash)"
_vigil() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" typed="" w entry name
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$w" in -*) ;; *) typed="\${typed:+$typed }$w" ;; esac
  done
  local table=(
${table}
  )
  local words=""
  for entry in "\${table[@]}"; do
    name="\${entry%%|*}"
    if [[ "$typed" == "$name" || "$typed" == "$name "* ]]; then words="\${entry#*|}"; break; fi
    if [[ -z "$typed" ]]; then words="$words \${name%% *}"
    elif [[ "$name" == "$typed "* ]]; then rest="\${name#"$typed "}"; words="$words \${rest%% *}"; fi
  done
  COMPREPLY=( $(compgen -W "$words" -- "$cur" | sort -u) )
}
complete -F _vigil vigil
`;
}
