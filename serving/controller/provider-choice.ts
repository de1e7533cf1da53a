import type { ExecutionProviderChoice, VigilConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import { describeOutcome, probeProviders, probeRequest, type ProbeOutcome } from '../replica/provider-probe.ts';

/**
 * Execution providers chosen once per node (issue 19): the probe starts as soon as the config is
 * read, beside the database's opening, and its answer replaces each deployment's `auto` (or named
 * accelerator) by the provider that loaded its model. Replicas then open that provider directly:
 * no replica tries CUDA or WebGPU on a machine without them, so none prints their native errors.
 * A deployment the probe could not settle keeps its choice, and its replicas try the providers
 * themselves, with a logged fallback, as before.
 */
export function startProviderChoice(config: VigilConfig): {
  apply(resolved: VigilConfig, log: Logger): Promise<VigilConfig>;
} {
  const requests = config.deployments.flatMap((d) => {
    const r = probeRequest(d.name, d.versions[0]?.model, d.execution_provider);
    return r ? [r] : [];
  });
  const probe = probeProviders(requests).then(
    (outcomes) => ({ outcomes }),
    (error: Error) => ({ error }),
  );
  return {
    async apply(resolved, log) {
      const result = await probe;
      if ('error' in result) {
        log.warn({ err: result.error }, 'could not probe the execution providers; each replica tries them itself');
        return resolved;
      }
      return {
        ...resolved,
        deployments: resolved.deployments.map((d) => {
          const outcome: ProbeOutcome | undefined = result.outcomes.get(d.name);
          if (!outcome) return d;
          const line = `execution provider for ${d.name}: ${describeOutcome(outcome)}`;
          if (outcome.chosen === undefined) {
            log.warn({ deployment: d.name, skipped: outcome.skipped }, line);
            return d;
          }
          log.info({ deployment: d.name, provider: outcome.chosen, skipped: outcome.skipped }, line);
          for (const [provider, printed] of Object.entries(outcome.detail))
            log.debug({ deployment: d.name, provider, printed }, 'what the native libraries printed during the probe');
          return { ...d, execution_provider: outcome.chosen as ExecutionProviderChoice };
        }),
      };
    },
  };
}
