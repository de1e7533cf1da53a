/** Anything the router can choose between. */
export interface Choosable {
  readonly ongoing: number;
  /** The replica said it is full (other ingress processes fill it too): skip it until it has room. */
  readonly saturated?: boolean;
}

/**
 * Power-of-two-choices (as in Ray Serve's pow_2_router.py): sample two distinct replicas that
 * still have room under `maxOngoing` and take the less loaded one. Cheaper than a full scan,
 * and it avoids the herd that "always the least loaded" causes when load figures lag.
 */
export function choosePow2<T extends Choosable>(
  replicas: readonly T[],
  maxOngoing: number,
  random: () => number = Math.random,
): T | undefined {
  const open: T[] = [];
  for (const r of replicas) if (r.ongoing < maxOngoing && !r.saturated) open.push(r);
  if (open.length === 0) return undefined;
  if (open.length === 1) return open[0];
  const i = Math.floor(random() * open.length);
  let j = Math.floor(random() * (open.length - 1));
  if (j >= i) j += 1;
  const a = open[i]!;
  const b = open[j]!;
  return b.ongoing < a.ongoing ? b : a;
}

/** A replica as direct ingress sees it: whether it runs in this process, and whether it is idle. */
export interface Placeable extends Choosable {
  /** It runs in this very process: reaching it costs no hop. */
  readonly local?: boolean;
  /** It holds no request from any process, as it last said. */
  readonly idle?: boolean;
}

/**
 * Direct ingress (docs/decisions/0012-direct-ingress.md): the replica in this process while it
 * has room (no hop, and the connections the kernel spread over the replicas spread the work with
 * them); when it is full, only an idle replica is worth the hop, since a busy one queues the
 * request as long and a refusal costs the whole body twice. Without a replica in this process (a
 * dedicated ingress process, another deployment's replica): power of two choices.
 */
export function chooseNearest<T extends Placeable>(
  replicas: readonly T[],
  maxOngoing: number,
  random: () => number = Math.random,
): T | undefined {
  const local = replicas.find((r) => r.local);
  if (!local) return choosePow2(replicas, maxOngoing, random);
  if (local.ongoing < maxOngoing && !local.saturated) return local;
  return choosePow2(
    replicas.filter((r) => r.idle && r !== local),
    maxOngoing,
    random,
  );
}
