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
