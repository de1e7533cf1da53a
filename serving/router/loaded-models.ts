/**
 * How long a model sent to a replica counts as held there before the replica's own report says
 * so. Reports reach an ingress process through the controller's routing snapshot, a few tens of
 * milliseconds after the replica loaded the model, and a large model takes seconds to load.
 */
export const SENT_MODEL_GRACE_MS = 10_000;

/**
 * A multiplexed replica's models as one ingress process sees them: what the replica last reported
 * (through the routing snapshot), plus what this process sent it and the reports do not show yet.
 *
 * Why both: a snapshot taken before the replica's report arrived would otherwise erase the model
 * this process just sent. The next request for it would then go wherever power of two choices
 * sends it, and a second replica would load the same model (a load costs far more than the
 * request).
 */
export class LoadedModels {
  private reported = new Set<string>();
  /** Model id → when it was sent (performance.now()), until a report shows it or the grace ends. */
  private readonly sent = new Map<string, number>();

  constructor(
    private readonly graceMs = SENT_MODEL_GRACE_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  has(modelId: string): boolean {
    if (this.reported.has(modelId)) return true;
    const sentAt = this.sent.get(modelId);
    return sentAt !== undefined && this.now() - sentAt < this.graceMs;
  }

  /** A request for the model was sent to the replica: it holds it, or is loading it. */
  add(modelId: string): void {
    if (!this.reported.has(modelId)) this.sent.set(modelId, this.now());
  }

  /** The replica's latest report: a sent model it shows is confirmed; one too old is forgotten. */
  replaceReported(modelIds: Iterable<string>): void {
    this.reported = new Set(modelIds);
    const now = this.now();
    for (const [id, sentAt] of this.sent) {
      if (this.reported.has(id) || now - sentAt >= this.graceMs) this.sent.delete(id);
    }
  }
}
