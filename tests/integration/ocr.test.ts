import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSamples, sampleValue, scrape } from '../helpers/metrics-text.ts';
import { REPO_ROOT, startVigil, waitFor, type RunningVigil } from '../helpers/vigil-process.ts';
import { OtlpReceiver } from '../helpers/otlp-receiver.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** A white page with the given lines in black DejaVu Sans, rendered by sharp (libvips + Pango). */
async function page(lines: string[], format: 'png' | 'jpeg' = 'png', rotate = 0): Promise<Buffer> {
  const markup = `<span foreground="black" background="white">${lines.join('\n')}</span>`;
  let img = sharp({ text: { text: markup, font: 'DejaVu Sans 28', dpi: 72, rgba: true } })
    .flatten({ background: '#ffffff' })
    .extend({ top: 30, bottom: 30, left: 30, right: 30, background: '#ffffff' });
  if (rotate) img = sharp(await img.png().toBuffer()).rotate(rotate, { background: '#ffffff' });
  return format === 'png' ? img.png().toBuffer() : img.jpeg({ quality: 90 }).toBuffer();
}

/** Whether sharp can draw text here: it needs a system font (Debian: fonts-dejavu-core). */
async function canRenderText(): Promise<boolean> {
  const { info } = await sharp({ text: { text: 'x', font: 'DejaVu Sans 20' } })
    .raw()
    .toBuffer({ resolveWithObject: true })
    .catch(() => ({ info: { width: 0 } }));
  if (info.width > 0) return true;
  if (process.env.CI) throw new Error('sharp cannot render text: install fonts-dejavu-core (.ci/run should have)');
  console.warn(
    'skipping the OCR test: sharp cannot render text without a system font (apt-get install fonts-dejavu-core)',
  );
  return false;
}

interface Line {
  text: string;
  confidence: number;
  box: [number, number][];
}

// PaddleOCR's Chinese models often drop the spaces between English words; compare without them.
const squash = (s: string) => s.replace(/\s+/g, '');

describe.runIf(await canRenderText())('the OCR example (examples/ocr): det → cls → rec composed by a handler', () => {
  let vigil: RunningVigil;
  const receiver = new OtlpReceiver();
  beforeAll(async () => {
    const endpoint = await receiver.start();
    // The example's own vigil.yaml, with paths made absolute, so the test runs what a user runs.
    const dir = join(REPO_ROOT, 'examples/ocr');
    const doc = parse(readFileSync(join(dir, 'vigil.yaml'), 'utf8')) as { deployments: Record<string, unknown>[] };
    for (const d of doc.deployments) {
      for (const key of ['model', 'handler']) if (typeof d[key] === 'string') d[key] = join(dir, d[key] as string);
      for (const p of (d.probes ?? []) as Record<string, string>[]) p.body_file = join(dir, p.body_file!);
      d.execution_provider = d.handler ? undefined : 'cpu';
      if (d.execution_provider === undefined) delete d.execution_provider;
    }
    vigil = await startVigil(doc, {
      waitReady: true,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_SAMPLER: 'always_on' },
    });
  }, 120_000);
  afterAll(async () => {
    await vigil?.stop();
    await receiver.stop();
  });

  const ocr = async (body: Buffer, contentType = 'image/png') => {
    const res = await fetch(`${vigil.url}/ocr`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: new Uint8Array(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      traceId: res.headers.get('x-vigil-trace-id'),
      lines:
        res.status === 200
          ? text
              .split('\n')
              .filter(Boolean)
              .map((l) => JSON.parse(l) as Line)
          : [],
      text,
    };
  };

  it('reads the sample page the README sends (examples/ocr/page.png)', async () => {
    const res = await ocr(readFileSync(join(REPO_ROOT, 'examples/ocr/page.png')));
    expect(res.status).toBe(200);
    expect(res.lines.map((l) => squash(l.text))).toEqual(['vigilservesmodels', 'HelloWorld2026']);
  });

  it('probes itself with the sample page and its expected second line', async () => {
    const probes = async () => (await (await fetch(`${vigil.url}/api/v1/deployments/ocr/probes`)).json()) as any;
    await waitFor(async () => (await probes()).results.length === 1, 30_000, 'the sample-page probe to run');
    expect((await probes()).results[0]).toMatchObject({
      probe: 'sample-page',
      result: 'pass',
      detail: '$[1].text is "Hello World 2026"',
    });
  });

  it('reads rendered text back, line by line in reading order, with boxes and confidences', async () => {
    const res = await ocr(await page(['vigil serves models', 'Hello World 2026']));
    expect(res.status).toBe(200);
    expect(res.type).toBe('application/x-ndjson');
    expect(res.lines.map((l) => squash(l.text))).toEqual(['vigilservesmodels', 'HelloWorld2026']);
    for (const l of res.lines) {
      expect(l.confidence).toBeGreaterThan(0.8);
      expect(l.box).toHaveLength(4);
    }
    // The first line's box lies above the second's.
    expect(res.lines[0]!.box[2]![1]).toBeLessThanOrEqual(res.lines[1]!.box[0]![1] + 2);
  });

  it('makes one trace of the request: the handler, a call per stage, and each model’s inference under its call', async () => {
    const res = await ocr(await page(['one trace', 'two lines']));
    expect(res.lines).toHaveLength(2);
    const spans = () => receiver.spans.filter((s) => s.traceId === res.traceId);
    const inferenceOf = (stage: string) =>
      spans().filter((s) => s.name === 'vigil.inference' && s.attributes['vigil.deployment'] === stage);
    await waitFor(
      () =>
        inferenceOf('det').length === 1 &&
        inferenceOf('cls').length === 1 &&
        inferenceOf('rec').length === 2 &&
        spans().filter((s) => s.name.startsWith('vigil.call ')).length === 4 &&
        spans().some((s) => s.kind === 2),
      15_000,
      'the whole OCR trace',
    );
    const names = spans().map((s) => s.name);
    expect(names.filter((n) => n === 'vigil.call det')).toHaveLength(1);
    expect(names.filter((n) => n === 'vigil.call cls')).toHaveLength(1);
    expect(names.filter((n) => n === 'vigil.call rec')).toHaveLength(2);
    expect(spans().find((s) => s.kind === 2)!.attributes['http.route']).toBe('/ocr');
  });

  it('reads a JPEG, and an upside-down page through the direction classifier', async () => {
    const jpeg = await ocr(await page(['Serving 42 models'], 'jpeg'), 'image/jpeg');
    expect(jpeg.lines.map((l) => squash(l.text))).toEqual(['Serving42models']);
    const flipped = await ocr(await page(['upside down'], 'png', 180));
    expect(flipped.lines.map((l) => squash(l.text))).toEqual(['upsidedown']);
  });

  it('answers 400 for a body that is not an image, and the service goes on', async () => {
    const bad = await ocr(Buffer.from('not an image'));
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).code).toBe('VIGIL_ERR_INVALID_BODY');
    expect((await ocr(await page(['still here']))).lines.map((l) => squash(l.text))).toEqual(['stillhere']);
  });

  it('measures every stage as a deployment of its own', async () => {
    const samples = parseSamples((await scrape(vigil.url)).text);
    for (const stage of ['det', 'cls', 'rec'])
      expect(
        sampleValue(samples, 'vigil_requests_total', { deployment: stage, version: 'v1', code: '200' }),
      ).toBeGreaterThan(0);
    // Every page sent above (the sample page included) answered 200; the body that is no image, 400.
    expect(sampleValue(samples, 'vigil_requests_total', { deployment: 'ocr', version: 'v1', code: '200' })).toBe(6);
    expect(sampleValue(samples, 'vigil_requests_total', { deployment: 'ocr', version: 'v1', code: '400' })).toBe(1);
  });
});
