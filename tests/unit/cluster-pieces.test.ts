import { describe, expect, it } from 'vitest';
import { Coalescer } from '../../serving/cluster/coalescer.ts';
import { RemoteRows } from '../../serving/cluster/remote-rows.ts';
import { parseStateNotice } from '../../db/queries/state-notify.ts';

type Row = { node: string; key: string; n: number; updatedAt: Date };
const rows = () =>
  new RemoteRows<Row>(
    (r) => `${r.node}/${r.key}`,
    (now, before) => (now.n > (before?.n ?? 0) ? { ...now, n: now.n - (before?.n ?? 0) } : undefined),
    10_000,
  );
const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

describe('RemoteRows: following counts other nodes write', () => {
  it('adds each row whole the first time, then only what it grew by', () => {
    const r = rows();
    expect(
      r
        .absorb([
          { node: 'a', key: 'x', n: 5, updatedAt: at(0) },
          { node: 'b', key: 'x', n: 2, updatedAt: at(1) },
        ])
        .map((x) => [x.node, x.n]),
    ).toEqual([
      ['a', 5],
      ['b', 2],
    ]);
    expect(r.absorb([{ node: 'a', key: 'x', n: 8, updatedAt: at(3) }]).map((x) => x.n)).toEqual([3]);
  });

  it('counts a row read twice once (reads overlap by the margin)', () => {
    const r = rows();
    r.absorb([{ node: 'a', key: 'x', n: 5, updatedAt: at(20) }]);
    expect(r.absorb([{ node: 'a', key: 'x', n: 5, updatedAt: at(20) }])).toEqual([]);
  });

  it('reads again from the newest change seen, less the margin, and everything before its first row', () => {
    const r = rows();
    expect(r.since()).toBeUndefined();
    r.absorb([]);
    expect(r.since()).toBeUndefined();
    r.absorb([
      { node: 'a', key: 'x', n: 1, updatedAt: at(30) },
      { node: 'a', key: 'y', n: 1, updatedAt: at(25) },
    ]);
    expect(r.since()).toEqual(at(20));
  });

  it('forgets rows the store has dropped, and a forgotten row read again counts whole', () => {
    const r = rows();
    r.absorb([
      { node: 'a', key: 'old', n: 4, updatedAt: at(0) },
      { node: 'a', key: 'new', n: 1, updatedAt: at(1) },
    ]);
    r.forget((x) => x.key === 'old');
    expect(r.size).toBe(1);
    expect(r.absorb([{ node: 'a', key: 'old', n: 4, updatedAt: at(2) }]).map((x) => x.n)).toEqual([4]);
  });

  it('forgets settled rows, and does not add one that changes after it settled (memory stays bounded)', () => {
    const r = new RemoteRows<Row>(
      (x) => `${x.node}/${x.key}`,
      (now, before) => (now.n > (before?.n ?? 0) ? { ...now, n: now.n - (before?.n ?? 0) } : undefined),
      10_000,
      (x) => x.key.startsWith('old'),
    );
    // The first read adds everything in range, settled rows too.
    expect(
      r
        .absorb([
          { node: 'a', key: 'old-1', n: 3, updatedAt: at(0) },
          { node: 'a', key: 'new', n: 1, updatedAt: at(1) },
        ])
        .map((x) => x.n),
    ).toEqual([3, 1]);
    r.forget();
    expect(r.size).toBe(1);
    // A settled row that changes again cannot be diffed: it is left out and counted as late.
    expect(
      r
        .absorb([
          { node: 'a', key: 'old-1', n: 5, updatedAt: at(5) },
          { node: 'a', key: 'new', n: 2, updatedAt: at(5) },
        ])
        .map((x) => [x.key, x.n]),
    ).toEqual([['new', 1]]);
    expect(r.lateRows).toBe(1);
  });
});

describe('Coalescer: reloads after change notices', () => {
  it('runs once more after a running reload for every burst of requests, never twice at once', async () => {
    const c = new Coalescer();
    let running = 0;
    let most = 0;
    let runs = 0;
    const gates: (() => void)[] = [];
    const work = () =>
      new Promise<void>((resolve) => {
        running++;
        runs++;
        most = Math.max(most, running);
        gates.push(() => {
          running--;
          resolve();
        });
      });
    const first = c.run('d', work);
    const more = [c.run('d', work), c.run('d', work), c.run('d', work)];
    await new Promise((r) => setImmediate(r));
    gates.shift()!();
    await new Promise((r) => setImmediate(r));
    gates.shift()!();
    await Promise.all([first, ...more]);
    expect(runs).toBe(2);
    expect(most).toBe(1);
  });

  it('keeps keys apart', async () => {
    const c = new Coalescer();
    const seen: string[] = [];
    await Promise.all([c.run('a', async () => seen.push('a')), c.run('b', async () => seen.push('b'))]);
    expect(seen.sort()).toEqual(['a', 'b']);
  });
});

describe('state notices', () => {
  it('parses what vigil sends and ignores anything else', () => {
    expect(parseStateNotice('{"kind":"deployment","name":"cls"}')).toEqual({ kind: 'deployment', name: 'cls' });
    expect(parseStateNotice('{"kind":"rollouts","deployment":"cls"}')).toEqual({ kind: 'rollouts', deployment: 'cls' });
    expect(parseStateNotice('{"kind":"slos"}')).toEqual({ kind: 'slos' });
    for (const junk of ['', 'hello', '{"kind":"deployment"}', '{"kind":"drop tables"}', 'null', '[]'])
      expect(parseStateNotice(junk)).toBeUndefined();
  });
});
