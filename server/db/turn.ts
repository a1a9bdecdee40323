/**
 * Event-loop turns, for reads that every request of a turn would repeat (whether anything
 * was committed since an API key or the send checks' index was last read).
 *
 * A turn ends at the next setImmediate phase, and also whenever this process's write
 * queue commits (endTurn, called before the writers are answered). So a request sees
 * every write this process acknowledged before it arrived, and every write committed
 * elsewhere (another instance, the CLI) before the current turn began.
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
