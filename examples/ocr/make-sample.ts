/**
 * Renders examples/ocr/page.png, the page the README's OCR `curl` sends: two lines of black
 * DejaVu Sans on white, drawn by sharp (libvips + Pango), as tests/integration/ocr.test.ts draws
 * its pages. The PNG is committed, so the example works without running this; run it again
 * (`node --import tsx examples/ocr/make-sample.ts`) to change the text. Needs a system font
 * (Debian: fonts-dejavu-core).
 */
import { writeFileSync } from 'node:fs';
import sharp from 'sharp';

const SAMPLE_LINES = ['vigil serves models', 'Hello World 2026'];

const markup = `<span foreground="black" background="white">${SAMPLE_LINES.join('\n')}</span>`;
const png = await sharp({ text: { text: markup, font: 'DejaVu Sans 28', dpi: 72, rgba: true } })
  .flatten({ background: '#ffffff' })
  .extend({ top: 30, bottom: 30, left: 30, right: 30, background: '#ffffff' })
  .png({ compressionLevel: 9, palette: true })
  .toBuffer();
const out = new URL('./page.png', import.meta.url);
writeFileSync(out, png);
console.log(`wrote ${out.pathname} (${png.length} bytes)`);
