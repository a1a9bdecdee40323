/**
 * Event-loop turns, for reads that every request of a turn would repeat (whether anything
 * was committed since an API key or the send checks' index was last read).
 *
 * A turn ends at the next setImmediate phase, and also whenever this process's write
 * queue commits (endTurn, called before the writers are answered), so a request sees
 * every write this process acknowledged before it arrived. A turn begun in the check
 * phase lasts through the next poll phase, so readers also bound a cached value by time
 * (check-reader.ts: a millisecond) for writes committed elsewhere.
 */
let turn = 0;
let ending = false;

/** The current turn's number; the same until the turn ends. */
export function currentTurn(): number {
  if (!ending) {
    ending = true;
    setImmediate(() => {
      turn++;
      ending = false;
    });
  }
  return turn;
}

/** Ends the current turn now: what is read next is read anew. */
export function endTurn(): void {
  turn++;
}
