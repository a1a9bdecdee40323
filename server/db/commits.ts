/**
 * Commits of this process's write queue, counted, for reads that every request would
 * otherwise repeat (whether anything was committed since an API key or the send checks'
 * index was last read): a value cached against the count is read anew after each commit,
 * so a request sees every write this process acknowledged before it arrived. Writes
 * committed elsewhere are caught by a time bound (check-reader.ts).
 */
let commits = 0;

/** How many commits this process's write queue has made; a cached read taken at another count is stale. */
export function localCommits(): number {
  return commits;
}

/** Counts a commit, before the writers are answered. */
export function noteLocalCommit(): void {
  commits++;
}
