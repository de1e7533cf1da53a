/**
 * Maps a routing key (a user or session id) to a point in [0, 1), the same on every node and
 * every restart, so a key always lands on the same version while the split is unchanged.
 * FNV-1a is enough: the keys are not adversarial (a client choosing its key could just pin a
 * version), and it spreads short similar ids evenly; a final avalanche step mixes the low bits.
 */
export function routingKeyPoint(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // murmur3's finaliser: without it, keys differing in the last character cluster together.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}
