/**
 * Draws the cls example's probe images and their inputs: one line of text, upright and upside
 * down (examples/cls/probes/*.png, to look at), and each as the classifier's [1,3,48,192] input
 * (probes/*.json, inference requests that vigil.yaml's probes send). The text direction
 * classifier must answer class 0 ("0 degrees") for the first and 1 ("180 degrees") for the second.
 * The files are committed; run this again (`node --import tsx examples/cls/make-probes.ts`) to
 * change the text. Needs a system font (Debian: fonts-dejavu-core).
 */
import { writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { clsInput } from '../ocr/lib/cls-preprocess.ts';
import type { RgbImage } from '../ocr/lib/image.ts';

const TEXT = 'vigil serves models';

async function line(rotate: 0 | 180): Promise<{ png: Buffer; image: RgbImage }> {
  const markup = `<span foreground="black" background="white">${TEXT}</span>`;
  let img = sharp({ text: { text: markup, font: 'DejaVu Sans 28', dpi: 72, rgba: true } })
    .flatten({ background: '#ffffff' })
    .extend({ top: 6, bottom: 6, left: 6, right: 6, background: '#ffffff' });
  if (rotate) img = sharp(await img.png().toBuffer()).rotate(180);
  const png = await img.png({ compressionLevel: 9, palette: true }).toBuffer();
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { png, image: { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data) } };
}

for (const [name, rotate] of [
  ['upright', 0],
  ['upside-down', 180],
] as const) {
  const { png, image } = await line(rotate);
  const { tensor, shape } = clsInput(image);
  // Four decimals keep the file small; the classifier's answer does not move at that precision.
  const data = Array.from(tensor, (v) => Math.round(v * 1e4) / 1e4);
  const request = { inputs: [{ name: 'x', shape, datatype: 'FP32', data }] };
  const dir = new URL('./probes/', import.meta.url);
  writeFileSync(new URL(`${name}.png`, dir), png);
  writeFileSync(new URL(`${name}.json`, dir), JSON.stringify(request));
  console.log(`wrote probes/${name}.png and probes/${name}.json`);
}
