import { basename, dirname, join } from 'node:path';
import type { VigilEnv } from './env.ts';

/** The port `vigil start` listens on when neither --port nor VIGIL_PORT names one. */
export const DEFAULT_PORT = 8000;

/** The environment of a command that has settled which config, and so which state, it is about. */
export type NodeEnv = Readonly<VigilEnv> & { readonly VIGIL_DATA_DIR: string };

/**
 * Where a config's state lives when VIGIL_DATA_DIR does not say: beside the config file, in
 * `.vigil` for a file named vigil.yaml and in `.vigil-NAME` for NAME.yaml. Each config then has
 * its own database, artifacts and record of its running node, so trying one example never leaves
 * alerts, SLOs or rollouts in another (issue 19), and the repository's own vigil.yaml keeps the
 * `.vigil` it always had.
 */
export function dataDirFor(configFile: string): string {
  const stem = basename(configFile).replace(/\.ya?ml$/i, '');
  return join(dirname(configFile), stem === 'vigil' ? '.vigil' : `.vigil-${stem}`);
}

/** The environment with its data directory settled for `configFile`. */
export function withDataDir(env: Readonly<VigilEnv>, configFile: string): NodeEnv {
  return { ...env, VIGIL_DATA_DIR: env.VIGIL_DATA_DIR ?? dataDirFor(configFile) };
}
