'use client';

import { useState } from 'react';
import type { ActionPreview, RunbookExecution, RunbookStep } from '../lib/api-types';
import { callRoute, type BrowserResult } from '../lib/browser-api';
import { compactJson } from '../lib/format';
import { missingFields, toParams } from '../lib/runbook-params';
import { ActionResult } from './action-result';
import { ConfirmDialog } from './confirm-dialog';

export interface StepRunnerProps {
  slug: string;
  step: RunbookStep;
  /** Values for the step's missing fields, e.g. from the alert that led here. */
  prefill: Partial<Record<'deployment' | 'version' | 'fingerprint', string>>;
}

/**
 * Runs one action step of a runbook, in two moves: a preview (what will change, before → after,
 * read from the live state) and only then Confirm. Fields the step leaves out are asked for in the
 * dialog; changing one throws the preview away, so what is confirmed is what was previewed.
 */
export function StepRunner({ slug, step, prefill }: StepRunnerProps) {
  const fields = step.action ? missingFields(step.action) : [];
  const initial = Object.fromEntries(
    fields.map((f) => [f.key, f.key in prefill ? (prefill[f.key as keyof typeof prefill] ?? '') : '']),
  );
  const [open, setOpen] = useState(false);
  const [values, setValues] = useState<Record<string, string>>(initial);
  const [problem, setProblem] = useState<string | null>(null);
  const [preview, setPreview] = useState<BrowserResult<ActionPreview> | null>(null);
  const [run, setRun] = useState<BrowserResult<RunbookExecution> | null>(null);
  const [busy, setBusy] = useState(false);
  const at = { slug, position: step.position };

  if (!step.action) return null;

  const doPreview = async (vals: Record<string, string>) => {
    const { params, problem } = toParams(fields, vals);
    setProblem(problem);
    setPreview(null);
    if (problem) return;
    setBusy(true);
    setPreview(await callRoute('previewStep', { params: at, body: { params } }));
    setBusy(false);
  };
  const doRun = async () => {
    const { params } = toParams(fields, values);
    setBusy(true);
    const r = await callRoute('runStep', { params: at, body: { params, confirm: true } });
    setRun(r);
    setBusy(false);
  };
  const openDialog = () => {
    setValues(initial);
    setPreview(null);
    setRun(null);
    setProblem(null);
    setOpen(true);
    // Nothing to ask: show what it would do straight away.
    if (fields.every((f) => !f.required || initial[f.key])) void doPreview(initial);
  };
  const failedRun = run?.ok && run.data.status === 'failed';

  return (
    <>
      <button type="button" className="run" data-testid={`run-step-${step.position}`} onClick={openDialog}>
        Run: {step.title}
      </button>
      <ConfirmDialog
        open={open}
        title={`Step ${step.position}: ${step.title}`}
        confirmLabel="Confirm"
        done={!!run?.ok}
        canConfirm={!!preview?.ok}
        busy={busy}
        onConfirm={doRun}
        onClose={() => setOpen(false)}
      >
        {fields.length > 0 && (
          <form
            className="params"
            onSubmit={(e) => {
              e.preventDefault();
              void doPreview(values);
            }}
          >
            {fields.map((f) => (
              <label key={f.key}>
                {f.label}
                {f.required ? '' : ' (optional)'}
                <input
                  name={f.key}
                  data-testid={`param-${f.key}`}
                  value={values[f.key] ?? ''}
                  placeholder={f.placeholder}
                  required={f.required}
                  disabled={!!run?.ok}
                  onChange={(e) => {
                    setValues({ ...values, [f.key]: e.target.value });
                    setPreview(null);
                  }}
                />
              </label>
            ))}
            <button type="submit" data-testid="preview-action" disabled={busy || !!run?.ok}>
              Preview
            </button>
          </form>
        )}
        {problem && <p className="result-error">{problem}</p>}
        {preview && !preview.ok && <ActionResult result={preview} success="" />}
        {preview?.ok && (
          <div className="preview" data-testid="action-preview">
            <p>
              <strong>{preview.data.description}</strong>
            </p>
            <p className="muted">Target: {preview.data.target}</p>
            <p className="before-after">
              <code>{compactJson(preview.data.before)}</code> → <code>{compactJson(preview.data.after)}</code>
            </p>
          </div>
        )}
        {run && !run.ok && <ActionResult result={run} success="" />}
        {run?.ok && (
          <div className={failedRun ? 'result-error' : 'result-ok'} role="status" data-testid="action-result">
            Execution {run.data.id} {run.data.status}: <code>{compactJson(run.data.result)}</code>
          </div>
        )}
      </ConfirmDialog>
    </>
  );
}
