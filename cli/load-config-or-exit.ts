import { ConfigError, loadConfig } from '../serving/config/load-config.ts';
import type { VigilConfig } from '../serving/config/schema.ts';

/** Loads vigil.yaml for a command; on a config error prints it and exits 2, having started nothing. */
export function loadConfigOrExit(file: string): VigilConfig {
  try {
    return loadConfig(file);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`vigil: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
