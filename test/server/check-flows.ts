/**
 * Flows the check tests need that have no route yet in this tree (double opt-in signup,
 * one-click unsubscribe, restriction, erasure): written the way the state model says
 * those flows write them, through appendEvents inside one write transaction, so the
 * ledger hook (webhooks) sees them as it will see the real flows.
 */
import type { Transaction } from '@libsql/client';
import { appendEvents } from '../../server/services/events';
import { buildEvidence, sealEvidence } from '../../server/services/evidence';
import { normalizeEmail } from '../../server/services/contact';
import type { TestApp } from './helpers';
import type { EventAction } from '../../shared/enums';

async function subjectByEmail(tx: Transaction, t: TestApp, email: string): Promise<string | undefined> {
  const bidx = t.services.crypto.blindIndex('acme', 'email', normalizeEmail(email));
  const { rows } = await tx.execute({ sql: 'SELECT id FROM subjects WHERE site_id = ? AND email_bidx = ?', args: ['acme', bidx] });
  return rows[0] ? String(rows[0].id) : undefined;
}

async function purposeId(tx: Transaction, key: string): Promise<string> {
  const { rows } = await tx.execute({ sql: "SELECT id FROM purposes WHERE site_id = 'acme' AND key = ?", args: [key] });
  return String(rows[0]!.id);
}

async function event(t: TestApp, tx: Transaction, subjectId: string, purpose: string | null, action: EventAction) {
  const [e] = await appendEvents(tx, [
    {
      siteId: 'acme',
      subjectId,
      visitorId: null,
      purposeId: purpose,
      action,
      wordingVersionId: null,
      sourceId: null,
      actor: 'test',
      occurredAt: t.services.now(),
      evidence: sealEvidence(t.services.crypto, buildEvidence(undefined, {})),
    },
  ]);
  return e!;
}

/** A double opt-in signup not yet confirmed: the person exists, the state is pending. */
export async function pendingSignup(t: TestApp, email: string, purpose = 'e-marketing'): Promise<void> {
  const res = await t.call('POST', '/v1/sites/acme/consents', { body: { email, purpose: 'sales-and-service', action: 'grant' } });
  if (res.status !== 201) throw new Error(`setup failed: ${res.status}`);
  await t.services.queue.run(async ({ tx }) => {
    const subjectId = (await subjectByEmail(tx, t, email))!;
    const pid = await purposeId(tx, purpose);
    const e = await event(t, tx, subjectId, pid, 'grant');
    await tx.execute({
      sql: "INSERT INTO consent_states (subject_id, purpose_id, status, event_id, updated_at) VALUES (?,?,'pending',?,?) ON CONFLICT DO UPDATE SET status = 'pending', event_id = excluded.event_id",
      args: [subjectId, pid, e.id, t.services.now()],
    });
  });
}

/** One-click unsubscribe: the purpose withdrawn by an `unsubscribe` event, with or without the channel suppression. */
export async function unsubscribe(t: TestApp, email: string, options: { suppress: boolean; purpose?: string }): Promise<void> {
  await t.services.queue.run(async ({ tx }) => {
    const subjectId = (await subjectByEmail(tx, t, email))!;
    const pid = await purposeId(tx, options.purpose ?? 'e-marketing');
    const e = await event(t, tx, subjectId, pid, 'unsubscribe');
    await tx.execute({ sql: "UPDATE consent_states SET status = 'withdrawn', event_id = ?, updated_at = ? WHERE subject_id = ? AND purpose_id = ?", args: [e.id, t.services.now(), subjectId, pid] });
    if (options.suppress) {
      const bidx = t.services.crypto.blindIndex('acme', 'email', normalizeEmail(email));
      await tx.execute({
        sql: "INSERT INTO suppressions (site_id, channel, bidx, reason, list, purpose_id, created_at) VALUES ('acme', 'email', ?, 'unsubscribe', '', ?, ?) ON CONFLICT DO NOTHING",
        args: [bidx, pid, t.services.now()],
      });
    }
  });
}

/** Processing restricted (GDPR art. 18). */
export async function restrict(t: TestApp, email: string): Promise<void> {
  await t.services.queue.run(async ({ tx }) => {
    const subjectId = (await subjectByEmail(tx, t, email))!;
    await event(t, tx, subjectId, null, 'restrict');
    await tx.execute({ sql: 'UPDATE subjects SET restricted = 1 WHERE id = ?', args: [subjectId] });
  });
}

/** Erasure: the event first (the webhook reports the hashes), then the suppression, then the contact data goes. */
export async function erase(t: TestApp, email: string): Promise<string> {
  return t.services.queue.run(async ({ tx }) => {
    const subjectId = (await subjectByEmail(tx, t, email))!;
    await event(t, tx, subjectId, null, 'erase');
    const { rows } = await tx.execute({ sql: 'SELECT email_bidx, phone_bidx FROM subjects WHERE id = ?', args: [subjectId] });
    const now = t.services.now();
    for (const [channel, bidx] of [['email', rows[0]!.email_bidx], ['sms', rows[0]!.phone_bidx]] as const) {
      if (!bidx) continue;
      await tx.execute({
        sql: "INSERT INTO suppressions (site_id, channel, bidx, reason, list, purpose_id, created_at) VALUES ('acme', ?, ?, 'erased', '', NULL, ?) ON CONFLICT DO NOTHING",
        args: [channel, String(bidx), now],
      });
    }
    await tx.execute({
      sql: 'UPDATE subjects SET email_enc = NULL, email_bidx = NULL, phone_enc = NULL, phone_bidx = NULL, name_enc = NULL, erased_at = ? WHERE id = ?',
      args: [now, subjectId],
    });
    return subjectId;
  });
}
