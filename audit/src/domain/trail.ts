/**
 * The order in which the trail of one business flow is told. Events are in the event store's
 * commit order (their global position), which is the order in which they happened; mutations
 * have no position, so each is placed by the time the gateway received it: before the first
 * event that occurred after it. Both orders are kept as they are; only the interleaving uses
 * clocks (the gateway's and the event store's).
 */

/** What ordering needs of a record. */
export interface Orderable {
  readonly sequence: number;
  /** Global position of an event; null for a mutation. */
  readonly position: number | null;
  /** ISO-8601. */
  readonly occurredAt: string;
}

const byTime = (a: Orderable, b: Orderable): number =>
  Date.parse(a.occurredAt) - Date.parse(b.occurredAt) || a.sequence - b.sequence;

/** The records in the order their story is told; see the module comment. */
export const orderTrail = <R extends Orderable>(records: readonly R[]): R[] => {
  const events = records
    .filter((record) => record.position !== null)
    .sort((a, b) => (a.position ?? 0) - (b.position ?? 0) || a.sequence - b.sequence);
  const mutations = records.filter((record) => record.position === null).sort(byTime);
  const ordered: R[] = [];
  let e = 0;
  let m = 0;
  while (e < events.length || m < mutations.length) {
    const event = events[e];
    const mutation = mutations[m];
    // A mutation goes first at equal times: it is what caused the events of its own request.
    if (mutation && (!event || Date.parse(mutation.occurredAt) <= Date.parse(event.occurredAt))) {
      ordered.push(mutation);
      m += 1;
    } else if (event) {
      ordered.push(event);
      e += 1;
    }
  }
  return ordered;
};
