import Link from 'next/link';
import { ActionButton } from '../../components/action-button';
import { ErrorPanel } from '../../components/error-panel';
import { InlineMarkdown } from '../../components/markdown';
import { SilenceButton } from '../../components/silence-button';
import { StepRunner } from '../../components/step-runner';
import type { Alert, Runbook, SloStatus } from '../../lib/api-types';
import { formatBurnRate, formatPercent, formatRelative, formatTime } from '../../lib/format';
import type { ApiResult } from '../../lib/vigil-api';

export interface AlertCardProps {
  alert: Alert;
  slo: SloStatus | null;
  runbooks: ApiResult<{ runbooks: Runbook[] }>;
  canOperate: boolean;
  timeZone: string;
  now: Date;
}

/** The labels a runbook step can take its missing fields from. */
function prefillFrom(a: Alert): Partial<Record<'deployment' | 'version' | 'fingerprint', string>> {
  const out: Partial<Record<'deployment' | 'version' | 'fingerprint', string>> = { fingerprint: a.fingerprint };
  if (a.labels.deployment) out.deployment = a.labels.deployment;
  if (a.labels.version) out.version = a.labels.version;
  return out;
}

function BurnRates({ slo }: { slo: SloStatus }) {
  const windows = Object.entries(slo.burn_rates);
  return (
    <table className="compact">
      <caption>
        Burn rate of {slo.id} (objective {formatPercent(slo.objective)} over {slo.window}; budget left{' '}
        {formatPercent(slo.error_budget_remaining, 1)})
      </caption>
      <thead>
        <tr>
          {windows.map(([w]) => (
            <th scope="col" key={w}>
              {w}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        <tr>
          {windows.map(([w, v]) => (
            <td key={w} className={v >= 14.4 ? 'hot' : v >= 6 ? 'warn' : undefined}>
              {formatBurnRate(v)}
            </td>
          ))}
        </tr>
      </tbody>
    </table>
  );
}

/** One firing or pending alert with what an engineer needs to act on it, runbooks included. */
export function AlertCard({ alert: a, slo, runbooks, canOperate, timeZone, now }: AlertCardProps) {
  const prefill = prefillFrom(a);
  const query = new URLSearchParams(prefill as Record<string, string>).toString();
  const silenced = a.silencedUntil !== null && Date.parse(a.silencedUntil) > now.getTime();
  return (
    <article className={`alert-card alert-${a.state}`} data-testid={`alert-${a.name}`}>
      <header>
        <span className={`badge badge-${a.state}`}>{a.state}</span>
        <h3>{a.name}</h3>
        <span className="muted">from {a.source}</span>
      </header>
      {a.annotations.summary && <p className="summary">{a.annotations.summary}</p>}
      {a.annotations.description && <p>{a.annotations.description}</p>}
      <p className="muted">
        Since {formatTime(a.startsAt, timeZone)} ({formatRelative(a.startsAt, now)})
        {a.acknowledgedBy
          ? ` · acknowledged by ${a.acknowledgedBy}${a.acknowledgedAt ? ` at ${formatTime(a.acknowledgedAt, timeZone)}` : ''}`
          : ''}
        {silenced ? ` · silenced until ${formatTime(a.silencedUntil, timeZone)}` : ''}
      </p>
      <ul className="labels" aria-label="Labels">
        {Object.entries(a.labels).map(([k, v]) => (
          <li key={k}>
            <code>
              {k}={v}
            </code>
          </li>
        ))}
      </ul>
      {slo ? (
        <BurnRates slo={slo} />
      ) : a.sloId ? (
        <p className="muted">SLO {a.sloId} is not known to vigil any more.</p>
      ) : null}

      <div className="runbooks">
        <h4>Runbooks</h4>
        {!runbooks.ok ? (
          <ErrorPanel what="runbooks for this alert" failure={runbooks} />
        ) : runbooks.data.runbooks.length === 0 ? (
          <p className="empty">
            No runbook names {a.name}.{a.annotations.runbook_url ? ' ' : ''}
            {a.annotations.runbook_url && /^https?:/.test(a.annotations.runbook_url) ? (
              <a href={a.annotations.runbook_url}>External runbook</a>
            ) : null}
          </p>
        ) : (
          runbooks.data.runbooks.map((rb) => (
            <div key={rb.slug} className="runbook-inline">
              <Link href={`/runbooks/${encodeURIComponent(rb.slug)}?${query}`}>{rb.title}</Link>
              <ol>
                {rb.steps.map((s) => (
                  <li key={s.position}>
                    {s.kind === 'action' && canOperate ? (
                      <StepRunner slug={rb.slug} step={s} prefill={prefill} />
                    ) : (
                      <InlineMarkdown text={s.title} />
                    )}
                  </li>
                ))}
              </ol>
            </div>
          ))
        )}
      </div>

      {canOperate && (
        <div className="actions">
          {a.acknowledgedBy === null && (
            <ActionButton
              label="Acknowledge"
              operation="acknowledgeAlert"
              input={{ params: { fingerprint: a.fingerprint } }}
              confirm={`Acknowledge ${a.name}: you are on it.`}
            />
          )}
          <SilenceButton fingerprint={a.fingerprint} alertName={a.name} silenced={silenced} />
        </div>
      )}
    </article>
  );
}
