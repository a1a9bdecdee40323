/**
 * The send checks' memory: for one (site, purpose), every person's state for the purpose
 * and every suppression of the site, held in typed arrays sorted by blind index, so a
 * check is a binary search instead of three SQLite index lookups (which cost 5–13 µs a
 * contact on a database of a million people; this costs well under one).
 *
 * Exactness comes first. The database stays the truth and the index a copy that is
 * brought up to date before every answer: triggers (migration 0007) append every change
 * to subjects, consent_states and suppressions to `check_changes`, whoever makes it
 * (this process, another instance, the CLI), and each check first replays what was
 * appended since the index last looked, re-reading the rows named there. Re-reading is
 * idempotent, so the order in which a change and its replay are seen cannot matter: the
 * index is built after noting the log's position, and everything after that position is
 * replayed on top. Changes go into small maps over the sorted arrays; when these grow
 * large, or the log has been trimmed past the index's position, the index is rebuilt in
 * the background while checks go to the database.
 *
 * A person is found by the first 20 characters of the blind index (120 bits of HMAC;
 * for a million people the chance that two share them is about 10^-24).
 *
 * Only on a local database file (through the checks' own connection, check-reader.ts);
 * elsewhere checks read the database directly.
 */
import type { CheckReader, SyncReader } from './check-reader';

/** What the index knows of a person for its purpose: the fields check.ts decides on. */
export interface IndexedSubject {
  restricted: boolean;
  erasedAt: number | null;
  status: string | null;
  updatedAt: number | null;
  wordingVersionId: string | null;
  sourceId: string | null;
  action: string | null;
  /** Has a consent state other than pending for any purpose (kept only by indexes of purposes not based on consent). */
  known: boolean;
}

export interface IndexedSuppression {
  id: number;
  channel: 'email' | 'sms';
  reason: string;
  list: string;
  purposeId: string | null;
  createdAt: number;
}

/** An address's findings: the person behind it, whether they have an address on the purpose's channel, the suppressions that bear on it. */
export interface IndexLookup {
  subject: IndexedSubject | undefined;
  /** The person has an address on the purpose's channel (always true when that is the channel asked about). */
  reachable: boolean;
  suppressions: IndexedSuppression[];
}

type Channel = 'email' | 'sms';

// ---------------------------------------------------------------------------------
// Keys: the first 20 characters of a blind index (base64url), 6 bits each, packed five
// to a 32-bit word in the characters' ASCII order, so the words sort as SQLite sorts the
// text (BINARY collation) and the database can hand the rows over already in order.

const PREFIX = 20;
const WORDS = 4;
const RANK = new Int8Array(128).fill(-1);
const SYMBOL: string[] = [];
{
  const symbols = '-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz';
  for (let i = 0; i < symbols.length; i++) {
    RANK[symbols.charCodeAt(i)] = i;
    SYMBOL.push(symbols[i]!);
  }
}

/** Packs the key of `bidx` into `out[at..at+4]`; false when it is not a blind index's text. */
function pack(bidx: string, out: Uint32Array, at: number): boolean {
  if (bidx.length < PREFIX) return false;
  for (let w = 0; w < WORDS; w++) {
    let word = 0;
    for (let i = 0; i < 5; i++) {
      const code = bidx.charCodeAt(w * 5 + i);
      const rank = code < 128 ? RANK[code]! : -1;
      if (rank < 0) return false;
      word = word * 64 + rank;
    }
    out[at + w] = word;
  }
  return true;
}

/** The 20-character prefix behind the key at `keys[at..]`. */
function unpack(keys: Uint32Array, at: number): string {
  let s = '';
  for (let w = 0; w < WORDS; w++) {
    const word = keys[at + w]!;
    for (let i = 4; i >= 0; i--) s += SYMBOL[Math.floor(word / 64 ** i) % 64];
  }
  return s;
}

function compareAt(keys: Uint32Array, at: number, probe: Uint32Array): number {
  for (let w = 0; w < WORDS; w++) {
    const d = keys[at + w]! - probe[w]!;
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Where each range of first words begins in sorted keys: blind indexes are uniformly
 * spread, so a search starts among a handful of entries instead of a million.
 */
class Buckets {
  readonly shift: number;
  readonly starts: Uint32Array;
  constructor(keys: Uint32Array, n: number) {
    // About one entry a bucket (4 bytes each: a million people add 4 MB), at most 2^20
    // buckets; first words have 30 bits. A lookup then reads one or two keys, not a dozen.
    const bits = Math.min(20, Math.max(1, Math.ceil(Math.log2(n + 1))));
    this.shift = 30 - bits;
    this.starts = new Uint32Array((1 << bits) + 1);
    let b = 0;
    for (let i = 0; i < n; i++) {
      const bucket = keys[i * WORDS]! >>> this.shift;
      while (b <= bucket) this.starts[b++] = i;
    }
    while (b < this.starts.length) this.starts[b++] = n;
  }
}

/** The first position in sorted `keys` (n entries) whose key is ≥ `probe`. */
function lowerBound(keys: Uint32Array, n: number, probe: Uint32Array, buckets?: Buckets): number {
  let lo = 0;
  let hi = n;
  if (buckets) {
    const b = probe[0]! >>> buckets.shift;
    lo = buckets.starts[b]!;
    hi = buckets.starts[b + 1]!;
  }
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareAt(keys, mid * WORDS, probe) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Strings seen in a column (ids, reasons, list names), each stored once; 0 is null. */
class Interned {
  readonly values: (string | null)[] = [null];
  readonly #codes = new Map<string, number>();
  code(value: string | null): number {
    if (value === null) return 0;
    let code = this.#codes.get(value);
    if (code === undefined) {
      code = this.values.length;
      this.values.push(value);
      this.#codes.set(value, code);
    }
    return code;
  }
}

const STATUS = ['', 'granted', 'pending', 'withdrawn', 'objected'];
const statusCode = (s: string | null) => Math.max(0, STATUS.indexOf(s ?? ''));

/** Flags of a person in a SubjectBlock. */
const RESTRICTED = 1;
const ERASED = 2;
/** Has an address on the other channel: `other` holds its position in that channel's block. */
const HAS_OTHER = 4;
const KNOWN = 8;

/** The people with an address on one channel, sorted by it; sized once from a count. */
class SubjectBlock {
  n = 0;
  keys: Uint32Array;
  flags: Uint8Array;
  status: Uint8Array;
  action: Uint16Array;
  wording: Uint16Array;
  source: Uint16Array;
  updatedAt: Float64Array;
  /** Position of the person in the other channel's block (when HAS_OTHER). */
  other: Int32Array;
  /** The key of the person's address on the other channel, while the blocks are being linked (the build only). */
  otherKeys: Uint32Array | undefined;
  readonly erasedAt = new Map<number, number>();
  /** `linked`: the other channel has people, so positions there are kept (4 bytes a person). */
  constructor(
    public capacity: number,
    readonly linked: boolean,
  ) {
    this.keys = new Uint32Array(capacity * WORDS);
    this.flags = new Uint8Array(capacity);
    this.status = new Uint8Array(capacity);
    this.action = new Uint16Array(capacity);
    this.wording = new Uint16Array(capacity);
    this.source = new Uint16Array(capacity);
    this.updatedAt = new Float64Array(capacity);
    this.other = new Int32Array(linked ? capacity : 0).fill(-1);
  }
  /** Room for one more (rows added after the count that sized the block: they stay in order, so nothing may be dropped). */
  ensure(n: number) {
    if (n < this.capacity) return;
    const capacity = Math.max(n + 1, Math.ceil(this.capacity * 1.25) + 16);
    this.keys = grown(this.keys, capacity * WORDS);
    this.flags = grown(this.flags, capacity);
    this.status = grown(this.status, capacity);
    this.action = grown(this.action, capacity);
    this.wording = grown(this.wording, capacity);
    this.source = grown(this.source, capacity);
    this.updatedAt = grown(this.updatedAt, capacity);
    if (this.linked) this.other = grown(this.other, capacity).fill(-1, this.capacity);
    if (this.otherKeys) this.otherKeys = grown(this.otherKeys, capacity * WORDS);
    this.capacity = capacity;
  }
  buckets: Buckets | undefined;
  find(probeKey: Uint32Array): number {
    const i = lowerBound(this.keys, this.n, probeKey, this.buckets);
    return i < this.n && compareAt(this.keys, i * WORDS, probeKey) === 0 ? i : -1;
  }
}

/** A copy of `a` with room for `length` entries. */
function grown<T extends Uint8Array | Uint16Array | Int32Array | Uint32Array | Float64Array>(a: T, length: number): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  b.set(a);
  return b;
}

/** A site's suppressions on one channel, sorted by blind index (several rows may share one). */
class SuppressionBlock {
  n = 0;
  keys: Uint32Array;
  id: Float64Array;
  reason: Uint16Array;
  list: Uint16Array;
  purpose: Uint16Array;
  createdAt: Float64Array;
  buckets: Buckets | undefined;
  constructor(public capacity: number) {
    this.keys = new Uint32Array(capacity * WORDS);
    this.id = new Float64Array(capacity);
    this.reason = new Uint16Array(capacity);
    this.list = new Uint16Array(capacity);
    this.purpose = new Uint16Array(capacity);
    this.createdAt = new Float64Array(capacity);
  }
  /** See SubjectBlock.ensure. */
  ensure(n: number) {
    if (n < this.capacity) return;
    const capacity = Math.max(n + 1, Math.ceil(this.capacity * 1.25) + 16);
    this.keys = grown(this.keys, capacity * WORDS);
    this.id = grown(this.id, capacity);
    this.reason = grown(this.reason, capacity);
    this.list = grown(this.list, capacity);
    this.purpose = grown(this.purpose, capacity);
    this.createdAt = grown(this.createdAt, capacity);
    this.capacity = capacity;
  }
}

/** Rows per page while building: one statement and one JSON text each, a few ms of the event loop. */
const PAGE = 1000;
/** Pending changes replayed at once; more than this and the index is rebuilt instead. */
const MAX_REPLAY = 50_000;
/** After a failed build, the wait before the next (checks read the database meanwhile). */
const RETRY_BUILD_MS = 60_000;
/** Changed addresses kept beside the sorted arrays before the index is rebuilt. */
const MAX_OVERLAY = 100_000;
/** Distinct ids, reasons and list names an index holds (16-bit codes); more and the database answers. */
const MAX_TEXTS = 65_535;

type SubjectTuple = [string, string | null, number, number | null, string | null, number | null, string | null, string | null, string | null, number | null];
type SuppressionTuple = [string, number, string, string, string | null, number];

/**
 * A person with their state for the purpose (?1), and (?4 = 1, for purposes not based on
 * consent) whether they have any consent state but a pending one: the columns shared by
 * build and replay, `own` and `other` being the two blind-index columns in either order.
 */
const subjectColumns = (own: string, other: string) =>
  `json_array(s.${own}, s.${other}, s.restricted, s.erased_at, cs.status, cs.updated_at, cs.wording_version_id, cs.source_id, e.action, CASE WHEN ?4 = 1 THEN ${KNOWN_SQL} END)`;

/** Whether the person `s` is on record beyond an unconfirmed signup: a consent state that is not pending, for any purpose. */
export const KNOWN_SQL = "EXISTS (SELECT 1 FROM consent_states k WHERE k.subject_id = s.id AND k.status <> 'pending')";
/** The person `s`'s state for the purpose ?1, and the event that withdrew it (for how it was withdrawn). */
export const STATE_JOIN =
  ' LEFT JOIN consent_states cs ON cs.subject_id = s.id AND cs.purpose_id = ?1' + " LEFT JOIN consent_events e ON e.id = cs.event_id AND cs.status = 'withdrawn'";

const pageSql = (own: 'email_bidx' | 'phone_bidx', other: 'email_bidx' | 'phone_bidx') =>
  `SELECT json_group_array(${subjectColumns(own, other)}) FROM` +
  ` (SELECT * FROM subjects WHERE site_id = ?2 AND ${own} > ?3 ORDER BY ${own} LIMIT ${PAGE}) s${STATE_JOIN}`;
const EMAIL_PAGE = pageSql('email_bidx', 'phone_bidx');
const PHONE_PAGE = pageSql('phone_bidx', 'email_bidx');
const COUNT_SUBJECTS = 'SELECT count(email_bidx), count(phone_bidx) FROM subjects WHERE site_id = ?1';
const COUNT_SUPPRESSIONS = "SELECT count(*) FILTER (WHERE channel = 'email'), count(*) FILTER (WHERE channel = 'sms') FROM suppressions WHERE site_id = ?1";
const SUPPRESSION_PAGE =
  'SELECT json_group_array(json_array(bidx, id, reason, list, purpose_id, created_at)) FROM' +
  ` (SELECT * FROM suppressions WHERE site_id = ?1 AND channel = ?2 AND bidx >= ?3 ORDER BY bidx LIMIT ${PAGE})`;
const SUBJECT_BY_ID = `SELECT ${subjectColumns('email_bidx', 'phone_bidx')} FROM subjects s${STATE_JOIN} WHERE s.id = ?2 AND s.site_id = ?3`;
const SUPPRESSIONS_OF =
  'SELECT json_group_array(json_array(bidx, id, reason, list, purpose_id, created_at)) FROM suppressions WHERE site_id = ?1 AND channel = ?2 AND bidx = ?3';
const CHANGES = `SELECT json_group_array(json_array(seq, kind, a, b, c)) FROM (SELECT * FROM check_changes WHERE seq > ?1 ORDER BY seq LIMIT ${MAX_REPLAY + 1})`;
/** The last sequence number handed out (AUTOINCREMENT's record of it survives any trimming). */
const LAST_CHANGE = "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'check_changes'), 0)";

const okey = (channel: Channel, bidx: string) => `${channel === 'email' ? 'e' : 's'}${bidx.slice(0, PREFIX)}`;

/** A person changed since the build, with their addresses (full blind indexes). */
interface ChangedSubject extends IndexedSubject {
  email: string | null;
  phone: string | null;
}

/** One (site, purpose)'s index: sorted blocks from the last build, and the changes since. */
class Snapshot {
  subjects!: Record<Channel, SubjectBlock>;
  suppressions!: Record<Channel, SuppressionBlock>;
  readonly text = new Interned();
  /** People whose record changed since the build, by channel and key; null: nobody has that address now. */
  readonly subjectOverlay = new Map<string, ChangedSubject | null>();
  /** Addresses whose suppressions changed since the build: their whole list now. */
  readonly suppressionOverlay = new Map<string, IndexedSuppression[]>();
  /** The last change of `check_changes` reflected here. */
  seq = 0;
  code(value: string | null): number {
    const code = this.text.code(value);
    if (code > MAX_TEXTS) throw new Error('check index: too many distinct texts');
    return code;
  }
}

const probe = new Uint32Array(WORDS);
const NONE: IndexedSuppression[] = [];

export class CheckIndex {
  #current: Snapshot | undefined;
  #building: Promise<void> | undefined;
  /** When the last build failed (ms): the next waits a while, the database answering meanwhile. */
  #failedAt = 0;

  /**
   * `wholeRecord`: the purpose is not based on consent, so a check also needs to know
   * whether the person is on record beyond an unconfirmed signup (IndexedSubject.known).
   */
  constructor(
    private readonly reader: CheckReader & { sync: SyncReader },
    readonly siteId: string,
    readonly purposeId: string,
    readonly wholeRecord: boolean,
  ) {}

  /** Whether checks can be answered from memory now. */
  get ready(): boolean {
    return this.#current !== undefined;
  }

  /** Starts a build when there is none (no-op while one runs); resolves when it is done. */
  build(): Promise<void> {
    this.#building ??= this.#build()
      .catch(() => {
        this.#failedAt = Date.now();
      })
      .finally(() => {
        this.#building = undefined;
      });
    return this.#building;
  }

  /**
   * Brings the index up to date with every change committed so far, synchronously (the
   * caller then answers within the same turn). False when it cannot: not built yet, or
   * too far behind (a rebuild is then started); the caller asks the database instead.
   */
  refresh(): boolean {
    const snap = this.#current;
    if (!snap) return this.#stale();
    // Nothing committed anywhere since the last replay: the index is up to date.
    const sync = this.reader.sync;
    const version = sync.version();
    if (this.#replayedAt !== version || this.#replayedSnapshot !== snap) {
      // The log and the rows it names, read at one moment.
      if (!sync.snapshot(() => this.#replay(snap))) return false;
      this.#replayedAt = version;
      this.#replayedSnapshot = snap;
    }
    this.#verified = snap;
    return true;
  }

  /** The data_version read before the last complete replay (commits after it change it). */
  #replayedAt = -1;
  #replayedSnapshot: Snapshot | undefined;
  /** The snapshot the last successful refresh() vouched for: what lookups read. */
  #verified: Snapshot | undefined;

  #replay(snap: Snapshot): boolean {
    const sync = this.reader.sync;
    const changes = JSON.parse(sync.json(CHANGES, [snap.seq])) as [number, string, string | null, string | null, string | null][];
    // Too many: rebuilding is cheaper. A gap anywhere, or entries handed out that are no longer
    // there (trimmed or deleted before this index saw them; the sequence has no gaps of its
    // own): the index cannot know what it missed.
    if (changes.length > MAX_REPLAY) return this.#stale();
    for (let i = 0; i < changes.length; i++) if (changes[i]![0] !== snap.seq + 1 + i) return this.#stale();
    if (Number(sync.row(LAST_CHANGE, [])![0]) !== snap.seq + changes.length) return this.#stale();
    if (changes.length === 0) return true;
    try {
      for (const [seq, kind, a, b, c] of changes) {
        if (kind === 's' && a !== null) this.#replaySubject(snap, a, b, c);
        else if (kind === 'c' && a !== null && (b === this.purposeId || this.wholeRecord)) this.#replaySubject(snap, a, null, null);
        else if (kind === 'x' && a === this.siteId && (b === 'email' || b === 'sms') && c !== null) this.#replaySuppressions(snap, b, c);
        snap.seq = seq;
      }
    } catch {
      // Half replayed: this copy is of no use any more (when it is the published one).
      if (this.#current === snap) this.#current = undefined;
      return this.#stale();
    }
    if (snap.subjectOverlay.size + snap.suppressionOverlay.size > MAX_OVERLAY && !this.#building) void this.build();
    return true;
  }

  /**
   * What is on record for an address on `channel`, for a purpose on `purposeChannel` (when
   * that is e-mail or SMS): the person, and the suppressions of the address and, when the
   * purpose's channel is the other one, of the person's address there. Call refresh() first.
   */
  lookup(channel: Channel, bidx: string, purposeChannel: Channel | undefined): IndexLookup {
    const snap = this.#verified!;
    const cross = purposeChannel !== undefined && purposeChannel !== channel;
    let subject: IndexedSubject | undefined;
    let reachable = !cross;
    let more = NONE;
    const changed = snap.subjectOverlay.size ? snap.subjectOverlay.get(okey(channel, bidx)) : undefined;
    if (changed !== undefined) {
      subject = changed ?? undefined;
      const own = changed && cross ? (purposeChannel === 'email' ? changed.email : changed.phone) : null;
      if (own) {
        reachable = true;
        more = this.#suppressionsOf(snap, purposeChannel!, own);
      }
    } else if (pack(bidx, probe, 0)) {
      const block = snap.subjects[channel];
      const i = block.find(probe);
      if (i >= 0) {
        subject = this.#record(snap, block, i);
        if (cross && block.flags[i]! & HAS_OTHER) {
          reachable = true;
          const otherBlock = snap.subjects[purposeChannel!];
          const at = block.other[i]! * WORDS;
          if (snap.suppressionOverlay.size) more = this.#suppressionsOf(snap, purposeChannel!, unpack(otherBlock.keys, at));
          else more = this.#baseSuppressions(snap, purposeChannel!, otherBlock.keys.subarray(at, at + WORDS));
        }
      }
    }
    const own = this.#suppressionsOf(snap, channel, bidx);
    return { subject, reachable, suppressions: more.length ? (own.length ? [...own, ...more] : more) : own };
  }

  #record(snap: Snapshot, block: SubjectBlock, i: number): IndexedSubject {
    const flags = block.flags[i]!;
    const status = block.status[i]!;
    const texts = snap.text.values;
    return {
      restricted: (flags & RESTRICTED) !== 0,
      erasedAt: flags & ERASED ? (block.erasedAt.get(i) ?? null) : null,
      status: status ? STATUS[status]! : null,
      updatedAt: status ? block.updatedAt[i]! : null,
      wordingVersionId: texts[block.wording[i]!] ?? null,
      sourceId: texts[block.source[i]!] ?? null,
      action: texts[block.action[i]!] ?? null,
      known: (flags & KNOWN) !== 0,
    };
  }

  #suppressionsOf(snap: Snapshot, channel: Channel, bidx: string): IndexedSuppression[] {
    if (snap.suppressionOverlay.size) {
      const changed = snap.suppressionOverlay.get(okey(channel, bidx));
      if (changed !== undefined) return changed;
    }
    if (snap.suppressions[channel].n === 0 || !pack(bidx, probe, 0)) return NONE;
    return this.#baseSuppressions(snap, channel, probe);
  }

  #baseSuppressions(snap: Snapshot, channel: Channel, key: Uint32Array): IndexedSuppression[] {
    const block = snap.suppressions[channel];
    if (block.n === 0) return NONE;
    let found: IndexedSuppression[] | undefined;
    const texts = snap.text.values;
    for (let i = lowerBound(block.keys, block.n, key, block.buckets); i < block.n && compareAt(block.keys, i * WORDS, key) === 0; i++) {
      (found ??= []).push({
        id: block.id[i]!,
        channel,
        reason: texts[block.reason[i]!]!,
        list: texts[block.list[i]!] ?? '',
        purposeId: texts[block.purpose[i]!] ?? null,
        createdAt: block.createdAt[i]!,
      });
    }
    return found ?? NONE;
  }

  #stale(): boolean {
    if (!this.#building && Date.now() - this.#failedAt > RETRY_BUILD_MS) void this.build();
    return false;
  }

  #replaySubject(snap: Snapshot, subjectId: string, oldEmail: string | null, oldPhone: string | null) {
    if (oldEmail) snap.subjectOverlay.set(okey('email', oldEmail), null);
    if (oldPhone) snap.subjectOverlay.set(okey('sms', oldPhone), null);
    const row = this.reader.sync.row(SUBJECT_BY_ID, [this.purposeId, subjectId, this.siteId, this.wholeRecord ? 1 : 0]);
    if (!row) return;
    const t = JSON.parse(String(row[0])) as SubjectTuple;
    const subject: ChangedSubject = {
      restricted: Number(t[2]) === 1,
      erasedAt: t[3],
      status: t[4],
      updatedAt: t[4] ? t[5] : null,
      wordingVersionId: t[6],
      sourceId: t[7],
      action: t[8],
      known: Number(t[9]) === 1,
      email: t[0],
      phone: t[1],
    };
    if (subject.email) snap.subjectOverlay.set(okey('email', subject.email), subject);
    if (subject.phone) snap.subjectOverlay.set(okey('sms', subject.phone), subject);
  }

  #replaySuppressions(snap: Snapshot, channel: Channel, bidx: string) {
    const rows = JSON.parse(this.reader.sync.json(SUPPRESSIONS_OF, [this.siteId, channel, bidx])) as SuppressionTuple[];
    snap.suppressionOverlay.set(
      okey(channel, bidx),
      rows.map((r) => ({ id: r[1], channel, reason: r[2], list: r[3], purposeId: r[4], createdAt: r[5] })),
    );
  }

  async #build(): Promise<void> {
    const snap = new Snapshot();
    const sync = this.reader.sync;
    // The log's position first: whatever commits later is replayed over what the pages read.
    snap.seq = Number(sync.row(LAST_CHANGE, [])![0]);
    // Sized from counts; a block grows if rows are added before the pages reach them.
    const [emails, phones] = sync.row(COUNT_SUBJECTS, [this.siteId])!.map(Number) as [number, number];
    const [emailRows, smsRows] = sync.row(COUNT_SUPPRESSIONS, [this.siteId])!.map(Number) as [number, number];
    snap.subjects = { email: new SubjectBlock(emails, phones > 0), sms: new SubjectBlock(phones, emails > 0) };
    snap.suppressions = { email: new SuppressionBlock(emailRows), sms: new SuppressionBlock(smsRows) };
    // Phones first, remembering each one's e-mail key; then e-mail, linking both ways.
    const phoneBlock = snap.subjects.sms;
    phoneBlock.otherKeys = new Uint32Array(phones * WORDS);
    await this.#loadSubjects(snap, 'sms', PHONE_PAGE, (i, other) => pack(other, phoneBlock.otherKeys!, i * WORDS));
    const otherProbe = new Uint32Array(WORDS);
    await this.#loadSubjects(snap, 'email', EMAIL_PAGE, (i, other) => {
      if (!snap.subjects.email.linked || !pack(other, otherProbe, 0)) return false;
      const at = phoneBlock.find(otherProbe);
      snap.subjects.email.other[i] = at;
      return at >= 0;
    });
    const emailBlock = snap.subjects.email;
    for (let i = 0; i < phoneBlock.n; i++) {
      if (!(phoneBlock.flags[i]! & HAS_OTHER)) continue;
      // (Not linked: no e-mail addresses were counted; those added since are replayed from the log.)
      const at = phoneBlock.linked ? emailBlock.find(phoneBlock.otherKeys.subarray(i * WORDS, i * WORDS + WORDS)) : -1;
      if (at >= 0) phoneBlock.other[i] = at;
      else phoneBlock.flags[i]! &= ~HAS_OTHER;
    }
    phoneBlock.otherKeys = undefined;
    await this.#loadSuppressions(snap, 'email');
    await this.#loadSuppressions(snap, 'sms');
    for (const block of [emailBlock, phoneBlock, snap.suppressions.email, snap.suppressions.sms]) block.buckets = new Buckets(block.keys, block.n);
    // Brought up to date before it is published: a snapshot that cannot be stays unpublished.
    const version = sync.version();
    if (!sync.snapshot(() => this.#replay(snap))) throw new Error('check index: too far behind after the build');
    this.#current = snap;
    this.#replayedAt = version;
    this.#replayedSnapshot = snap;
  }

  /** Reads a channel's people page by page, in the order of their address there. `link`: records the other address of the person at `i`. */
  async #loadSubjects(snap: Snapshot, channel: Channel, sql: string, link: (i: number, other: string) => boolean) {
    const block = snap.subjects[channel];
    const args: (string | number)[] = [this.purposeId, this.siteId, '', this.wholeRecord ? 1 : 0];
    for (;;) {
      const rows = JSON.parse(this.reader.sync.json(sql, args)) as SubjectTuple[];
      for (const t of rows) {
        const i = block.n;
        block.ensure(i);
        if (!pack(t[0], block.keys, i * WORDS)) continue;
        if (i > 0 && compareAt(block.keys, (i - 1) * WORDS, block.keys.subarray(i * WORDS, i * WORDS + WORDS)) >= 0) {
          throw new Error('check index: rows out of order');
        }
        const linked = t[1] !== null && link(i, t[1]);
        block.flags[i] = (Number(t[2]) === 1 ? RESTRICTED : 0) | (t[3] !== null ? ERASED : 0) | (linked ? HAS_OTHER : 0) | (Number(t[9]) === 1 ? KNOWN : 0);
        if (t[3] !== null) block.erasedAt.set(i, t[3]);
        block.status[i] = statusCode(t[4]);
        block.updatedAt[i] = t[5] ?? 0;
        block.wording[i] = snap.code(t[6]);
        block.source[i] = snap.code(t[7]);
        block.action[i] = snap.code(t[8]);
        block.n++;
      }
      if (rows.length < PAGE) break;
      args[2] = rows[rows.length - 1]![0];
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  async #loadSuppressions(snap: Snapshot, channel: Channel) {
    const block = snap.suppressions[channel];
    let from = '';
    for (;;) {
      let rows = JSON.parse(this.reader.sync.json(SUPPRESSION_PAGE, [this.siteId, channel, from])) as SuppressionTuple[];
      const full = rows.length === PAGE;
      // A full page may end inside one address's rows: leave that address to the next page.
      if (full) {
        const lastKey = rows[rows.length - 1]![0];
        const cut = rows.findIndex((r) => r[0] === lastKey);
        if (cut === 0) throw new Error('check index: one address has more suppressions than a page');
        rows = rows.slice(0, cut);
        from = lastKey;
      }
      for (const r of rows) {
        const i = block.n;
        block.ensure(i);
        if (!pack(r[0], block.keys, i * WORDS)) continue;
        block.id[i] = r[1];
        block.reason[i] = snap.code(r[2]);
        block.list[i] = snap.code(r[3] || null);
        block.purpose[i] = snap.code(r[4]);
        block.createdAt[i] = r[5];
        block.n++;
      }
      if (!full) break;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}

const indexes = new WeakMap<object, Map<string, { index: CheckIndex; usedAt: number }>>();

/** An index not asked for this long is dropped (its memory freed); the next check of its purpose rebuilds it. */
export const INDEX_IDLE_MS = 60 * 60 * 1000;

/** The index of (site, purpose) for this reader, created on first use (built in the background). */
export function checkIndexFor(reader: CheckReader, siteId: string, purposeId: string, wholeRecord: boolean): CheckIndex | undefined {
  if (!reader.sync) return undefined;
  let byKey = indexes.get(reader);
  if (!byKey) indexes.set(reader, (byKey = new Map()));
  const now = Date.now();
  for (const [k, entry] of byKey) if (now - entry.usedAt > INDEX_IDLE_MS) byKey.delete(k);
  const key = `${siteId}\0${purposeId}\0${wholeRecord}`;
  let entry = byKey.get(key);
  if (!entry) byKey.set(key, (entry = { index: new CheckIndex(reader as CheckReader & { sync: SyncReader }, siteId, purposeId, wholeRecord), usedAt: now }));
  entry.usedAt = now;
  return entry.index;
}

/**
 * Trims the change log to its newest `?1` entries and its last day (before `?2`, ms), and
 * always keeps the newest entry, so an index further behind sees the gap and rebuilds.
 * The log links a person's id to blind indexes: after an erasure that link must not last.
 */
export const TRIM_CHANGES_SQL =
  'DELETE FROM check_changes WHERE seq < (SELECT max(seq) FROM check_changes)' +
  ' AND (seq <= (SELECT max(seq) FROM check_changes) - ?1 OR coalesce(at, 0) < ?2)';
export const CHANGES_KEPT = 200_000;
export const CHANGES_KEPT_MS = 24 * 60 * 60 * 1000;
