import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bashCompletion, commandHelp, parseCommand, resolve, UsageError } from '../../cli/command-line.ts';
import { COMMANDS } from '../../cli/commands.ts';

const byName = (name: string) => COMMANDS.find((c) => c.name === name)!;

describe("vigil's command line", () => {
  it('finds the longest command the words name, a group, or nothing', () => {
    const found = resolve(COMMANDS, ['rollout', 'start', 'cls', '--version', 'v2']);
    expect(found.kind === 'command' && found.command.name).toBe('rollout start');
    expect(found.kind === 'command' && found.rest).toEqual(['cls', '--version', 'v2']);
    const group = resolve(COMMANDS, ['rollout', 'sideways']);
    expect(group).toMatchObject({ kind: 'group', unknown: 'rollout sideways' });
    expect(group.kind === 'group' && group.commands.map((c) => c.name)).toContain('rollout abort');
    expect(resolve(COMMANDS, ['frobnicate'])).toEqual({ kind: 'top', unknown: 'frobnicate' });
    expect(resolve(COMMANDS, ['--help'])).toEqual({ kind: 'top' });
  });

  it('gives every command a help that lists each of its options', () => {
    const names = new Set<string>();
    for (const c of COMMANDS) {
      expect(names.has(c.name), `duplicate command ${c.name}`).toBe(false);
      names.add(c.name);
      const help = commandHelp(c);
      expect(help).toContain(`usage: vigil ${c.name}`);
      for (const o of Object.keys(c.options)) expect(help, `${c.name} --${o}`).toContain(`--${o}`);
    }
  });

  it('refuses unknown options, missing values and the wrong number of arguments', () => {
    const mistake = (name: string, args: string[]) => {
      try {
        parseCommand(byName(name), args);
        return 'accepted';
      } catch (err) {
        expect(err).toBeInstanceOf(UsageError);
        return (err as Error).message;
      }
    };
    expect(mistake('start', ['--bogus'])).toBe("Unknown option '--bogus'");
    expect(mistake('status', ['--url'])).toMatch(/--url <value>' argument missing/);
    expect(mistake('rollout status', [])).toBe('expected DEPLOYMENT');
    expect(mistake('rollout status', ['a', 'b'])).toBe('unexpected argument "b"');
    expect(parseCommand(byName('rollout start'), ['cls', '--version=v2', '-c', 'x.yaml'])).toEqual({
      values: { version: 'v2', config: 'x.yaml' },
      positionals: ['cls'],
    });
  });

  it('completes command words and then the options of the command in bash', () => {
    const complete = (line: string): string[] => {
      const words = line.split(' ');
      const script = `${bashCompletion(COMMANDS)}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _vigil; echo "\${COMPREPLY[@]}"`;
      return execFileSync('bash', ['-c', script], { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean).sort();
    };
    expect(complete('vigil rol')).toEqual(['rollout']);
    expect(complete('vigil rollout st')).toEqual(['start', 'status']);
    expect(complete('vigil rollout start cls --v')).toEqual(['--version']);
    expect(complete('vigil status --')).toEqual(['--config', '--help', '--json', '--port', '--url']);
  });
});
