import { writeFileSync } from 'node:fs';
import { loadConfigOrExit } from './load-config-or-exit.ts';
import { slosFromConfig } from '../slo/definition.ts';
import { renderRules } from '../slo/prometheus-rules.ts';
import { policyFromConfig } from '../slo/burn-rate.ts';
import { parseDuration } from '../slo/duration.ts';

/** `vigil slo rules`: print (or write) Prometheus rules equivalent to the SLO engine. */
export async function sloRulesCommand(configFile: string, out?: string): Promise<void> {
  const config = loadConfigOrExit(configFile);
  const slos = config.deployments.flatMap(slosFromConfig);
  if (slos.length === 0) process.stderr.write(`vigil: ${configFile} declares no SLOs; the rules file is empty\n`);
  const engine = config.slo_engine;
  const text = renderRules(slos, {
    policy: policyFromConfig(engine.burn_windows, parseDuration),
    pageForSeconds: engine.page_for_s,
    ticketForSeconds: engine.ticket_for_s,
  });
  if (out) writeFileSync(out, text);
  else process.stdout.write(text);
}
