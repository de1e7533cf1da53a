/**
 * How full a replica says it is to every process that routes to it (CapacityMessage): `idle`
 * (worth a hop from a process whose own replica is busy), `busy`, or `full` (at
 * max_ongoing_requests: send nothing more). Each change costs a frame to every connection, so the
 * level moves with hysteresis: a replica that flickers between 0 and 1 request, or between
 * max - 1 and max, says nothing, and a full one says it has room only once a quarter has drained.
 */
export type FillLevel = 'idle' | 'busy' | 'full';

export function nextFillLevel(was: FillLevel, ongoing: number, maxOngoing: number): FillLevel {
  if (ongoing >= maxOngoing) return 'full';
  if (ongoing === 0) return 'idle';
  if (was === 'full') return ongoing <= Math.floor(maxOngoing * 0.75) ? 'busy' : 'full';
  if (was === 'idle') return ongoing >= 2 ? 'busy' : 'idle';
  return 'busy';
}
