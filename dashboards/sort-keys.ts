/**
 * Objects with their keys sorted, recursively; arrays keep their order. Generated files
 * (dashboards, Kubernetes manifests) are written through this so that regenerating them gives
 * the same bytes and their drift tests compare text.
 */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(obj)
        .sort()
        .map((k) => [k, sortKeys(obj[k])]),
    );
  }
  return value;
}
