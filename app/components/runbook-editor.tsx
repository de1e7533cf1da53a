'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import type { Runbook, RunbookAction, RunbookActionType, RunbookInput, RunbookStep } from '../lib/api-types';
import { callRoute, type BrowserResult } from '../lib/browser-api';
import { usePauseRefresh } from '../lib/refresh-pause';
import { ACTION_FIELDS, ACTION_LABELS, formatWeights, toParams } from '../lib/runbook-params';
import { ActionResult } from './action-result';

interface StepDraft {
  /** Keeps React's list identity stable while steps are added, removed and moved. */
  id: number;
  title: string;
  kind: 'note' | 'action';
  type: RunbookActionType;
  /** The action's fields as typed; blank ones are asked for when the step runs. */
  fields: Record<string, string>;
}

const ACTION_TYPES = Object.keys(ACTION_FIELDS) as RunbookActionType[];

function splitList(text: string): string[] {
  return [
    ...new Set(
      text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
}

function toDraft(step: Pick<RunbookStep, 'title' | 'kind' | 'action'>, id: number): StepDraft {
  const a = step.action ?? null;
  const fields: Record<string, string> = {};
  if (a) {
    for (const f of ACTION_FIELDS[a.type]) {
      const v = a[f.key];
      if (v !== undefined && v !== null) fields[f.key] = typeof v === 'object' ? formatWeights(v) : String(v);
    }
  }
  return { id, title: step.title, kind: step.kind, type: a?.type ?? 'scale', fields };
}

/** The draft as the API takes it, or the first problem found. */
function toInput(
  d: { title: string; slug: string; body: string; tags: string; alerts: string; steps: StepDraft[] },
  creating: boolean,
): { input: RunbookInput | null; problem: string | null } {
  if (!d.title.trim()) return { input: null, problem: 'A title is needed' };
  const steps: RunbookInput['steps'] = [];
  for (const [i, s] of d.steps.entries()) {
    if (!s.title.trim()) return { input: null, problem: `Step ${i + 1} needs a title` };
    if (s.kind === 'note') {
      steps.push({ title: s.title.trim(), kind: 'note', action: null });
      continue;
    }
    // At edit time every field is optional: what is left blank is asked for at run time.
    const optional = ACTION_FIELDS[s.type].map((f) => ({ ...f, required: false }));
    const { params, problem } = toParams(optional, s.fields);
    if (problem) return { input: null, problem: `Step ${i + 1}: ${problem}` };
    steps.push({ title: s.title.trim(), kind: 'action', action: { type: s.type, ...params } as RunbookAction });
  }
  const input: RunbookInput = {
    title: d.title.trim(),
    body_md: d.body,
    tags: splitList(d.tags),
    alert_names: splitList(d.alerts),
    steps,
  };
  if (creating && d.slug.trim()) input.slug = d.slug.trim();
  return { input, problem: null };
}

/**
 * Creates or edits a runbook: title, Markdown body, tags, the alerts it answers, and its steps
 * (notes, or actions whose blank fields are asked for when they run). Auto-refresh waits while it
 * is open, so nothing typed is lost.
 */
export function RunbookEditor({ existing }: { existing: Runbook | null }) {
  usePauseRefresh(true);
  const router = useRouter();
  const creating = existing === null;
  const [title, setTitle] = useState(existing?.title ?? '');
  const [slug, setSlug] = useState('');
  const [body, setBody] = useState(existing?.body_md ?? '');
  const [tags, setTags] = useState(existing?.tags.join(', ') ?? '');
  const [alerts, setAlerts] = useState(existing?.alert_names.join(', ') ?? '');
  const [steps, setSteps] = useState<StepDraft[]>(() => (existing?.steps ?? []).map((s, i) => toDraft(s, i)));
  const [nextId, setNextId] = useState(existing?.steps.length ?? 0);
  const [problem, setProblem] = useState<string | null>(null);
  const [result, setResult] = useState<BrowserResult | null>(null);
  const [busy, setBusy] = useState(false);

  const update = (id: number, patch: Partial<StepDraft>) =>
    setSteps(steps.map((s) => (s.id === id ? { ...s, ...patch } : s)));
  const move = (i: number, by: number) => {
    const next = [...steps];
    const [s] = next.splice(i, 1);
    next.splice(i + by, 0, s!);
    setSteps(next);
  };

  const save = async () => {
    const { input, problem } = toInput({ title, slug, body, tags, alerts, steps }, creating);
    setProblem(problem);
    setResult(null);
    if (!input) return;
    setBusy(true);
    const r = creating
      ? await callRoute('createRunbook', { body: input })
      : await callRoute('replaceRunbook', { params: { slug: existing.slug }, body: input });
    setBusy(false);
    setResult(r);
    if (r.ok) router.push(`/runbooks/${encodeURIComponent(r.data?.slug ?? existing?.slug ?? '')}`);
  };

  return (
    <form
      className="runbook-editor"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <label>
        Title
        <input value={title} required maxLength={200} onChange={(e) => setTitle(e.target.value)} />
      </label>
      {creating && (
        <label>
          Slug (optional: lowercase words joined by dashes; made from the title when blank)
          <input
            value={slug}
            pattern="[a-z0-9]+(-[a-z0-9]+)*"
            maxLength={63}
            onChange={(e) => setSlug(e.target.value)}
          />
        </label>
      )}
      <label>
        Body (Markdown: headings, lists, `code`, **bold**, [links](https://...))
        <textarea value={body} rows={14} onChange={(e) => setBody(e.target.value)} />
      </label>
      <label>
        Tags (comma-separated)
        <input value={tags} onChange={(e) => setTags(e.target.value)} placeholder="latency, rollout" />
      </label>
      <label>
        Alert names (comma-separated; the on-call page shows this runbook with these alerts)
        <input value={alerts} onChange={(e) => setAlerts(e.target.value)} placeholder="VigilErrorBudgetBurn" />
      </label>

      <fieldset>
        <legend>Steps</legend>
        {steps.length === 0 && <p className="empty">No steps yet.</p>}
        <ol className="step-drafts">
          {steps.map((s, i) => (
            <li key={s.id}>
              <div className="step-row">
                <label>
                  Step {i + 1} title
                  <input value={s.title} required onChange={(e) => update(s.id, { title: e.target.value })} />
                </label>
                <label>
                  Kind
                  <select value={s.kind} onChange={(e) => update(s.id, { kind: e.target.value as StepDraft['kind'] })}>
                    <option value="note">note</option>
                    <option value="action">action</option>
                  </select>
                </label>
                {s.kind === 'action' && (
                  <label>
                    Action
                    <select
                      value={s.type}
                      onChange={(e) => update(s.id, { type: e.target.value as RunbookActionType, fields: {} })}
                    >
                      {ACTION_TYPES.map((t) => (
                        <option key={t} value={t}>
                          {ACTION_LABELS[t]}
                        </option>
                      ))}
                    </select>
                  </label>
                )}
              </div>
              {s.kind === 'action' && (
                <div className="step-row">
                  {ACTION_FIELDS[s.type].map((f) => (
                    <label key={f.key}>
                      {f.label}
                      <input
                        value={s.fields[f.key] ?? ''}
                        placeholder="asked when run"
                        onChange={(e) => update(s.id, { fields: { ...s.fields, [f.key]: e.target.value } })}
                      />
                    </label>
                  ))}
                </div>
              )}
              <div className="step-buttons">
                <button type="button" disabled={i === 0} onClick={() => move(i, -1)}>
                  Move up
                </button>
                <button type="button" disabled={i === steps.length - 1} onClick={() => move(i, 1)}>
                  Move down
                </button>
                <button type="button" className="danger" onClick={() => setSteps(steps.filter((x) => x.id !== s.id))}>
                  Remove step
                </button>
              </div>
            </li>
          ))}
        </ol>
        <button
          type="button"
          onClick={() => {
            setSteps([...steps, { id: nextId, title: '', kind: 'note', type: 'scale', fields: {} }]);
            setNextId(nextId + 1);
          }}
        >
          Add step
        </button>
      </fieldset>

      {problem && (
        <p className="result-error" role="alert">
          {problem}
        </p>
      )}
      {result && !result.ok && <ActionResult result={result} success="" />}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Saving…' : creating ? 'Create runbook' : 'Save runbook'}
        </button>
        <Link href={creating ? '/runbooks' : `/runbooks/${encodeURIComponent(existing.slug)}`}>Cancel</Link>
      </div>
    </form>
  );
}
