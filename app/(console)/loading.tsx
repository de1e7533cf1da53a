/** Shown while a page's first data is read from vigil (refreshes keep the old page instead). */
export default function Loading() {
  return (
    <p className="loading" aria-busy="true">
      Loading…
    </p>
  );
}
