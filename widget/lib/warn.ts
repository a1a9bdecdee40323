const warned = new Set<string>();

/** console.warn, once per message per page: the console says why without repeating itself. */
export function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  console.warn(`samtykke: ${message}`);
}
