import type { ReactNode } from 'react';

/**
 * A deliberately small Markdown renderer for runbook bodies: headings, paragraphs, bullet and
 * numbered lists, fenced code, inline code, bold and links. It builds React elements, never an
 * HTML string, so whatever a runbook's author typed is escaped; links keep only http(s), mailto
 * and same-site targets.
 */
export function Markdown({ source }: { source: string }) {
  return <div className="markdown">{blocks(source)}</div>;
}

/** One line of inline Markdown (code, bold, links), e.g. a runbook step's title. */
export function InlineMarkdown({ text }: { text: string }) {
  return <>{inline(text)}</>;
}

type Block =
  | { kind: 'heading'; level: number; text: string }
  | { kind: 'code'; text: string }
  | { kind: 'list'; ordered: boolean; items: string[] }
  | { kind: 'para'; text: string };

const HEADING = /^(#{1,6})\s+(.*)$/;
const BULLET = /^\s*[-*+]\s+(.*)$/;
const NUMBERED = /^\s*\d+[.)]\s+(.*)$/;
const FENCE = /^\s*```/;

function parse(source: string): Block[] {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const out: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (FENCE.test(line)) {
      const code: string[] = [];
      i += 1;
      while (i < lines.length && !FENCE.test(lines[i]!)) code.push(lines[i++]!);
      i += 1; // the closing fence (or the end of an unclosed block)
      out.push({ kind: 'code', text: code.join('\n') });
      continue;
    }
    const h = HEADING.exec(line);
    if (h) {
      out.push({ kind: 'heading', level: h[1]!.length, text: h[2]! });
      i += 1;
      continue;
    }
    const listItem = (l: string) => BULLET.exec(l) ?? NUMBERED.exec(l);
    if (listItem(line)) {
      const ordered = !BULLET.test(line);
      const items: string[] = [];
      while (i < lines.length) {
        const m = (ordered ? NUMBERED : BULLET).exec(lines[i]!);
        if (m) items.push(m[1]!);
        else if (lines[i]!.trim() && /^\s{2,}/.test(lines[i]!) && items.length)
          items[items.length - 1] += ` ${lines[i]!.trim()}`;
        else break;
        i += 1;
      }
      out.push({ kind: 'list', ordered, items });
      continue;
    }
    if (!line.trim()) {
      i += 1;
      continue;
    }
    const para: string[] = [];
    while (
      i < lines.length &&
      lines[i]!.trim() &&
      !FENCE.test(lines[i]!) &&
      !HEADING.test(lines[i]!) &&
      !listItem(lines[i]!)
    )
      para.push(lines[i++]!.trim());
    out.push({ kind: 'para', text: para.join(' ') });
  }
  return out;
}

function blocks(source: string): ReactNode[] {
  return parse(source).map((b, i) => {
    switch (b.kind) {
      case 'heading': {
        // Runbook headings sit under the page's own h1/h2, so they start at h3.
        const Tag = `h${Math.min(6, b.level + 2)}` as 'h3' | 'h4' | 'h5' | 'h6';
        return <Tag key={i}>{inline(b.text)}</Tag>;
      }
      case 'code':
        return (
          <pre key={i}>
            <code>{b.text}</code>
          </pre>
        );
      case 'list': {
        const items = b.items.map((t, j) => <li key={j}>{inline(t)}</li>);
        return b.ordered ? <ol key={i}>{items}</ol> : <ul key={i}>{items}</ul>;
      }
      case 'para':
        return <p key={i}>{inline(b.text)}</p>;
    }
  });
}

const INLINE = /(`[^`]+`)|(\*\*[^*]+\*\*)|(\[[^\]]+\]\([^)\s]+\))/g;

function safeHref(href: string): string | null {
  if (/^(https?:|mailto:)/i.test(href)) return href;
  if (href.startsWith('/') && !href.startsWith('//')) return href;
  if (href.startsWith('#')) return href;
  return null;
}

function inline(text: string): ReactNode[] {
  const out: ReactNode[] = [];
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    const at = m.index;
    if (at > last) out.push(text.slice(last, at));
    const [token] = m;
    if (m[1]) out.push(<code key={at}>{token.slice(1, -1)}</code>);
    else if (m[2]) out.push(<strong key={at}>{inline(token.slice(2, -2))}</strong>);
    else {
      const link = /^\[([^\]]+)\]\(([^)\s]+)\)$/.exec(token)!;
      const href = safeHref(link[2]!);
      out.push(
        href ? (
          <a key={at} href={href} rel="noopener noreferrer">
            {link[1]}
          </a>
        ) : (
          `${link[1]} (${link[2]})`
        ),
      );
    }
    last = at + token.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}
