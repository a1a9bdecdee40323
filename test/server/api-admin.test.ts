/**
 * Admin API: sites, purposes, wording versions (draft → publish → retire), sources and
 * API keys, against the in-process app on a real libSQL file.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { makeApp, type TestApp, ISO, json, expectError } from './helpers';

interface WordingText {
  lang: string;
  title: string;
  body: string;
  sha256: string | null;
}
interface Wording {
  id: string;
  purpose: string;
  version: number;
  status: string;
  createdAt: string;
  publishedAt: string | null;
  retiredAt: string | null;
  texts: WordingText[];
}
interface Purpose {
  key: string;
  name: string;
  description: string;
  channel: string;
  legalBasis: string;
  requiresConsent: boolean;
  currentWording: { id: string; version: number; texts: WordingText[] } | null;
}
interface Source {
  key: string;
  label: string;
  archived: boolean;
  createdAt: string;
}
interface Key {
  id: string;
  siteId: string;
  name: string;
  scopes: string[];
  createdAt: string;
  revokedAt: string | null;
  secret?: string;
}


/** The SHA-256 a published text must carry, computed independently of the server. */
function textHash(lang: string, title: string, body: string): string {
  return createHash('sha256').update(JSON.stringify([lang, title, body])).digest('hex');
}



describe('admin API', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  describe('sites', () => {
    it('lists only the key’s own site', async () => {
      const body = await json<{ sites: { id: string }[] }>(await t.call('GET', '/v1/sites'), 200);
      assert.deepEqual(
        body.sites.map((s) => s.id),
        ['acme'],
      );
    });

    it('gets a site with its defaults (Danish, Denmark, double opt-in)', async () => {
      const site = await json<Record<string, unknown>>(await t.call('GET', '/v1/sites/acme'), 200);
      assert.equal(site.id, 'acme');
      assert.equal(site.name, 'Acme');
      assert.equal(site.defaultLanguage, 'da');
      assert.equal(site.defaultCountry, 'DK');
      assert.deepEqual(site.allowedOrigins, []);
      assert.equal(site.doubleOptIn, true);
      assert.match(String(site.createdAt), ISO);
    });

    it('changes site settings and keeps them', async () => {
      const changed = await json<Record<string, unknown>>(
        await t.call('PATCH', '/v1/sites/acme', { body: { name: 'Acme A/S', allowedOrigins: ['https://www.acme.dk'], doubleOptIn: false } }),
        200,
      );
      assert.equal(changed.name, 'Acme A/S');
      assert.deepEqual(changed.allowedOrigins, ['https://www.acme.dk']);
      assert.equal(changed.doubleOptIn, false);
      const again = await json<Record<string, unknown>>(await t.call('GET', '/v1/sites/acme'), 200);
      assert.equal(again.name, 'Acme A/S');
      assert.equal(again.doubleOptIn, false);
      assert.equal(again.defaultLanguage, 'da', 'fields not named stay as they were');
      // put it back for the other tests
      await json(await t.call('PATCH', '/v1/sites/acme', { body: { name: 'Acme', doubleOptIn: true, allowedOrigins: [] } }), 200);
    });

    it('refuses an empty, unknown-field or badly formed site patch', async () => {
      await expectError(await t.call('PATCH', '/v1/sites/acme', { body: {} }), 400);
      const unknown = await expectError(await t.call('PATCH', '/v1/sites/acme', { body: { id: 'other' } }), 400);
      assert.ok(unknown.error.details.some((d) => d.field === 'id'));
      const country = await expectError(await t.call('PATCH', '/v1/sites/acme', { body: { defaultCountry: 'dk' } }), 400);
      assert.ok(country.error.details.some((d) => d.field === 'defaultCountry'));
      const origin = await expectError(await t.call('PATCH', '/v1/sites/acme', { body: { allowedOrigins: ['https://acme.dk/path'] } }), 400);
      assert.ok(origin.error.details.some((d) => d.field?.startsWith('allowedOrigins')));
      const site = await json<Record<string, unknown>>(await t.call('GET', '/v1/sites/acme'), 200);
      assert.equal(site.defaultCountry, 'DK');
    });

    it('answers 404 for a site that does not exist', async () => {
      await expectError(await t.call('GET', '/v1/sites/nope'), 404, 'not_found');
    });
  });

  describe('purposes', () => {
    it('starts with sales-and-service (6-1-b) and e-marketing (6-1-a, email), each with a published da+en wording', async () => {
      const { purposes } = await json<{ purposes: Purpose[] }>(await t.call('GET', '/v1/sites/acme/purposes'), 200);
      const sales = purposes.find((p) => p.key === 'sales-and-service');
      const marketing = purposes.find((p) => p.key === 'e-marketing');
      assert.ok(sales && marketing);
      assert.equal(sales.legalBasis, '6-1-b');
      assert.equal(sales.requiresConsent, false);
      assert.equal(marketing.legalBasis, '6-1-a');
      assert.equal(marketing.channel, 'email');
      assert.equal(marketing.requiresConsent, true);
      for (const p of [sales, marketing]) {
        assert.equal(p.currentWording?.version, 1);
        assert.deepEqual(p.currentWording.texts.map((x) => x.lang).sort(), ['da', 'en']);
        for (const text of p.currentWording.texts) assert.equal(text.sha256, textHash(text.lang, text.title, text.body));
      }
    });

    it('creates, reads and renames a purpose; key, channel and legal basis cannot change', async () => {
      const created = await json<Purpose>(
        await t.call('POST', '/v1/sites/acme/purposes', {
          body: { key: 'sms-offers', name: 'SMS offers', description: 'Offers by text message', channel: 'sms', legalBasis: '6-1-a' },
        }),
        201,
      );
      assert.equal(created.key, 'sms-offers');
      assert.equal(created.channel, 'sms');
      assert.equal(created.requiresConsent, true);
      assert.equal(created.currentWording, null, 'no wording until one is published');

      const got = await json<Purpose>(await t.call('GET', '/v1/sites/acme/purposes/sms-offers'), 200);
      assert.equal(got.name, 'SMS offers');
      assert.equal(got.description, 'Offers by text message');

      const renamed = await json<Purpose>(await t.call('PATCH', '/v1/sites/acme/purposes/sms-offers', { body: { name: 'SMS news' } }), 200);
      assert.equal(renamed.name, 'SMS news');
      assert.equal(renamed.description, 'Offers by text message');

      const fixed = await expectError(await t.call('PATCH', '/v1/sites/acme/purposes/sms-offers', { body: { legalBasis: '6-1-f' } }), 400);
      assert.ok(fixed.error.details.some((d) => d.field === 'legalBasis'));
      assert.equal((await json<Purpose>(await t.call('GET', '/v1/sites/acme/purposes/sms-offers'), 200)).legalBasis, '6-1-a');

      const { purposes } = await json<{ purposes: Purpose[] }>(await t.call('GET', '/v1/sites/acme/purposes'), 200);
      assert.ok(purposes.some((p) => p.key === 'sms-offers'));
    });

    it('refuses a duplicate key with 409 and bad fields with 400', async () => {
      await expectError(
        await t.call('POST', '/v1/sites/acme/purposes', { body: { key: 'e-marketing', name: 'Again', channel: 'email', legalBasis: '6-1-a' } }),
        409,
        'purpose_exists',
      );
      const basis = await expectError(
        await t.call('POST', '/v1/sites/acme/purposes', { body: { key: 'x', name: 'X', channel: 'email', legalBasis: '6-1-z' } }),
        400,
      );
      assert.ok(basis.error.details.some((d) => d.field === 'legalBasis'));
      const key = await expectError(
        await t.call('POST', '/v1/sites/acme/purposes', { body: { key: 'Not A Slug', name: 'X', channel: 'email', legalBasis: '6-1-a' } }),
        400,
      );
      assert.ok(key.error.details.some((d) => d.field === 'key'));
      const channel = await expectError(
        await t.call('POST', '/v1/sites/acme/purposes', { body: { key: 'fax', name: 'Fax', channel: 'fax', legalBasis: '6-1-a' } }),
        400,
      );
      assert.ok(channel.error.details.some((d) => d.field === 'channel'));
      const name = await expectError(
        await t.call('POST', '/v1/sites/acme/purposes', { body: { key: 'blank', name: '   ', channel: 'email', legalBasis: '6-1-a' } }),
        400,
      );
      assert.ok(name.error.details.some((d) => d.field === 'name'));
    });

    it('answers 404 for an unknown purpose', async () => {
      await expectError(await t.call('GET', '/v1/sites/acme/purposes/nope'), 404, 'not_found');
      await expectError(await t.call('PATCH', '/v1/sites/acme/purposes/nope', { body: { name: 'x' } }), 404, 'not_found');
      await expectError(await t.call('GET', '/v1/sites/acme/purposes/nope/wordings'), 404, 'not_found');
      await expectError(await t.call('POST', '/v1/sites/acme/purposes/nope/wordings', { body: { texts: { da: { title: 't', body: 'b' } } } }), 404);
    });
  });

  describe('wording versions', () => {
    const base = '/v1/sites/acme/purposes/e-marketing/wordings';
    const purposeUrl = '/v1/sites/acme/purposes/e-marketing';
    const current = async () => (await json<Purpose>(await t.call('GET', purposeUrl), 200)).currentWording?.version ?? null;
    const draft = async (texts: Record<string, { title: string; body: string }>) =>
      json<Wording>(await t.call('POST', base, { body: { texts } }), 201);
    const publish = async (version: number) => json<Wording>(await t.call('POST', `${base}/${version}/publish`), 200);

    it('drafts a new version with unhashed texts; the current version does not change', async () => {
      const d = await draft({ da: { title: 'Nyhedsbrev', body: 'Ja tak til nyheder.' }, en: { title: 'Newsletter', body: 'Yes to news.' } });
      assert.equal(d.version, 2);
      assert.equal(d.status, 'draft');
      assert.equal(d.publishedAt, null);
      assert.equal(d.purpose, 'e-marketing');
      assert.deepEqual(
        d.texts.map((x) => [x.lang, x.sha256]),
        [
          ['da', null],
          ['en', null],
        ],
      );
      assert.equal(await current(), 1);
    });

    it('lets a draft change until it is published; then it is immutable (409) and its hashes fixed', async () => {
      const updated = await json<Wording>(
        await t.call('PUT', `${base}/2`, { body: { texts: { da: { title: 'Nyhedsbrev', body: 'Ja tak til nyheder og tilbud.' } } } }),
        200,
      );
      assert.deepEqual(
        updated.texts.map((x) => x.lang),
        ['da'],
        'a PUT replaces all texts',
      );
      assert.equal(updated.texts[0]!.body, 'Ja tak til nyheder og tilbud.');

      const published = await publish(2);
      assert.equal(published.status, 'published');
      assert.match(String(published.publishedAt), ISO);
      assert.equal(published.texts[0]!.sha256, textHash('da', 'Nyhedsbrev', 'Ja tak til nyheder og tilbud.'));
      assert.equal(await current(), 2, 'publishing makes the version current');

      await expectError(
        await t.call('PUT', `${base}/2`, { body: { texts: { da: { title: 'Changed', body: 'Changed after publish' } } } }),
        409,
        'wording_immutable',
      );
      await expectError(await t.call('POST', `${base}/2/publish`), 409, 'wording_not_draft');
      const after = await json<Wording>(await t.call('GET', `${base}/2`), 200);
      assert.equal(after.texts[0]!.body, 'Ja tak til nyheder og tilbud.');
      assert.equal(after.texts[0]!.sha256, published.texts[0]!.sha256);
    });

    it('refuses to publish without a text in the site’s default language (da)', async () => {
      const d = await draft({ en: { title: 'English only', body: 'Only in English.' } });
      await expectError(await t.call('POST', `${base}/${d.version}/publish`), 409, 'wording_missing_default_language');
      const still = await json<Wording>(await t.call('GET', `${base}/${d.version}`), 200);
      assert.equal(still.status, 'draft');
      assert.equal(still.texts[0]!.sha256, null);
      assert.equal(await current(), 2);
      // Adding Danish makes it publishable.
      await json(await t.call('PUT', `${base}/${d.version}`, { body: { texts: { en: { title: 'E', body: 'E' }, da: { title: 'D', body: 'D' } } } }), 200);
      const p = await publish(d.version);
      assert.equal(p.status, 'published');
      assert.equal(await current(), d.version);
    });

    it('lists versions newest first, drafts included', async () => {
      await draft({ da: { title: 'Kladde', body: 'Kladde' } });
      const { wordings } = await json<{ wordings: Wording[] }>(await t.call('GET', base), 200);
      const versions = wordings.map((w) => w.version);
      assert.deepEqual(versions, [...versions].sort((a, b) => b - a));
      assert.equal(wordings[0]!.status, 'draft');
      assert.equal(wordings.at(-1)!.version, 1);
    });

    it('retiring the current version makes the newest other published version current; retiring the last leaves none', async () => {
      // On a fresh purpose so the versions are known exactly.
      await json(
        await t.call('POST', '/v1/sites/acme/purposes', { body: { key: 'retire-me', name: 'Retire me', channel: 'email', legalBasis: '6-1-a' } }),
        201,
      );
      const b = '/v1/sites/acme/purposes/retire-me/wordings';
      const cur = async () => (await json<Purpose>(await t.call('GET', '/v1/sites/acme/purposes/retire-me'), 200)).currentWording?.version ?? null;
      for (let i = 1; i <= 3; i++) {
        await json(await t.call('POST', b, { body: { texts: { da: { title: `v${i}`, body: `tekst ${i}` } } } }), 201);
        await json(await t.call('POST', `${b}/${i}/publish`), 200);
      }
      assert.equal(await cur(), 3);

      // Retiring one that is not current changes nothing about the current one.
      const r1 = await json<Wording>(await t.call('POST', `${b}/1/retire`), 200);
      assert.equal(r1.status, 'retired');
      assert.match(String(r1.retiredAt), ISO);
      assert.equal(await cur(), 3);

      await json(await t.call('POST', `${b}/3/retire`), 200);
      assert.equal(await cur(), 2, 'the newest still-published version takes over');

      await expectError(await t.call('POST', `${b}/3/retire`), 409, 'wording_not_published');
      await json(await t.call('POST', `${b}/2/retire`), 200);
      assert.equal(await cur(), null);

      // A draft cannot be retired; a retired one cannot be published again.
      await json(await t.call('POST', b, { body: { texts: { da: { title: 'v4', body: 'tekst 4' } } } }), 201);
      await expectError(await t.call('POST', `${b}/4/retire`), 409, 'wording_not_published');
      await expectError(await t.call('POST', `${b}/2/publish`), 409, 'wording_not_draft');
      // The retired versions keep their texts and hashes.
      const v2 = await json<Wording>(await t.call('GET', `${b}/2`), 200);
      assert.equal(v2.texts[0]!.sha256, textHash('da', 'v2', 'tekst 2'));
      await json(await t.call('POST', `${b}/4/publish`), 200);
      assert.equal(await cur(), 4);
    });

    it('validates draft texts and version numbers', async () => {
      await expectError(await t.call('POST', base, { body: { texts: {} } }), 400);
      const lang = await expectError(await t.call('POST', base, { body: { texts: { Danish: { title: 't', body: 'b' } } } }), 400);
      assert.ok(lang.error.details.some((d) => d.field?.startsWith('texts')));
      const empty = await expectError(await t.call('POST', base, { body: { texts: { da: { title: 't', body: '' } } } }), 400);
      assert.ok(empty.error.details.some((d) => d.field === 'texts.da.body'));
      await expectError(await t.call('POST', base, { body: { texts: { da: { title: 't', body: 'b', extra: 1 } } } }), 400);
      await expectError(await t.call('GET', `${base}/0`), 400);
      await expectError(await t.call('GET', `${base}/abc`), 400);
      await expectError(await t.call('GET', `${base}/999`), 404, 'not_found');
      await expectError(await t.call('POST', `${base}/999/publish`), 404, 'not_found');
      await expectError(await t.call('PUT', `${base}/999`, { body: { texts: { da: { title: 't', body: 'b' } } } }), 404, 'not_found');
    });
  });

  describe('sources', () => {
    it('starts with web-form, import, api, admin, sms and email-link', async () => {
      const { sources } = await json<{ sources: Source[] }>(await t.call('GET', '/v1/sites/acme/sources'), 200);
      for (const key of ['web-form', 'import', 'api', 'admin', 'sms', 'email-link']) {
        const s = sources.find((x) => x.key === key);
        assert.ok(s, key);
        assert.equal(s.archived, false);
      }
    });

    it('creates, relabels, archives and unarchives a source', async () => {
      const created = await json<Source>(await t.call('POST', '/v1/sites/acme/sources', { body: { key: 'business-card', label: 'Business card' } }), 201);
      assert.deepEqual([created.key, created.label, created.archived], ['business-card', 'Business card', false]);
      await expectError(await t.call('POST', '/v1/sites/acme/sources', { body: { key: 'business-card', label: 'Again' } }), 409, 'source_exists');

      const relabelled = await json<Source>(await t.call('PATCH', '/v1/sites/acme/sources/business-card', { body: { label: 'Visitkort' } }), 200);
      assert.equal(relabelled.label, 'Visitkort');
      assert.equal(relabelled.archived, false);

      const archived = await json<Source>(await t.call('PATCH', '/v1/sites/acme/sources/business-card', { body: { archived: true } }), 200);
      assert.equal(archived.archived, true);
      assert.equal(archived.label, 'Visitkort', 'archiving keeps the label');
      const { sources } = await json<{ sources: Source[] }>(await t.call('GET', '/v1/sites/acme/sources'), 200);
      assert.equal(sources.find((s) => s.key === 'business-card')?.archived, true, 'archived sources stay listed');

      const back = await json<Source>(await t.call('PATCH', '/v1/sites/acme/sources/business-card', { body: { archived: false } }), 200);
      assert.equal(back.archived, false);
    });

    it('refuses bad source input', async () => {
      await expectError(await t.call('PATCH', '/v1/sites/acme/sources/nope', { body: { label: 'x' } }), 404, 'not_found');
      await expectError(await t.call('PATCH', '/v1/sites/acme/sources/api', { body: {} }), 400);
      await expectError(await t.call('PATCH', '/v1/sites/acme/sources/api', { body: { key: 'other' } }), 400);
      await expectError(await t.call('POST', '/v1/sites/acme/sources', { body: { key: 'UPPER', label: 'x' } }), 400);
      await expectError(await t.call('POST', '/v1/sites/acme/sources', { body: { key: 'nolabel' } }), 400);
    });
  });

  describe('API keys', () => {
    it('shows the secret once, stores only a hash, and the new key works with its scopes', async () => {
      const created = await json<Key>(await t.call('POST', '/v1/sites/acme/keys', { body: { name: 'crm', scopes: ['write', 'write', 'check'] } }), 201);
      assert.equal(created.siteId, 'acme');
      assert.equal(created.name, 'crm');
      assert.deepEqual(created.scopes, ['write', 'check'], 'duplicates are dropped');
      assert.equal(created.revokedAt, null);
      assert.ok(created.secret && created.secret.length >= 40);
      const secret = created.secret;

      const { keys } = await json<{ keys: Key[] }>(await t.call('GET', '/v1/sites/acme/keys'), 200);
      const listed = keys.find((k) => k.id === created.id);
      assert.ok(listed);
      assert.equal('secret' in listed, false, 'the list never shows a secret');
      assert.ok(!JSON.stringify(keys).includes(secret));

      // At rest: the row holds a hash, never the secret.
      const { rows } = await t.database.client.execute({ sql: 'SELECT * FROM api_keys WHERE id = ?', args: [created.id] });
      assert.equal(rows.length, 1);
      const row = JSON.stringify(rows[0]);
      assert.ok(!row.includes(secret), 'the secret is not in the api_keys row');
      assert.ok(!row.includes(secret.slice(-43)), 'not even its random part');
      assert.equal(rows[0]!.secret_hash, createHash('sha256').update(secret).digest('hex'));
      const all = await t.database.client.execute('SELECT * FROM api_keys');
      assert.ok(!JSON.stringify(all.rows).includes(secret.slice(-43)));
      const audit = await t.database.client.execute('SELECT * FROM audit_log');
      assert.ok(!JSON.stringify(audit.rows).includes(secret.slice(-43)), 'nor in the audit log');

      // It authenticates, with exactly its scopes.
      const recorded = await t.call('POST', '/v1/sites/acme/consents', {
        key: secret,
        body: { email: 'keys-test@example.dk', purpose: 'sales-and-service', action: 'grant' },
      });
      assert.equal(recorded.status, 201);
      await expectError(await t.call('GET', '/v1/sites/acme/keys', { key: secret }), 403, 'forbidden');
    });

    it('keeps the secret out of the raw database file', async () => {
      const created = await json<Key>(await t.call('POST', '/v1/sites/acme/keys', { body: { name: 'file-check', scopes: ['check'] } }), 201);
      await t.services.queue.idle();
      await t.database.client.execute('PRAGMA wal_checkpoint(TRUNCATE)');
      const bytes = readFileSync(t.file);
      assert.ok(bytes.includes(Buffer.from(createHash('sha256').update(created.secret!).digest('hex'))), 'sanity: the hash is in the file');
      assert.ok(!bytes.includes(Buffer.from(created.secret!.slice(-43))), 'the secret is not');
    });

    it('refuses a secret that differs from the one just accepted in any one character, then accepts the right one again', async () => {
      const created = await json<Key>(await t.call('POST', '/v1/sites/acme/keys', { body: { name: 'near-miss', scopes: ['admin'] } }), 201);
      const secret = created.secret!;
      // The key id's part, the separator's neighbours, the secret part: each right after the right secret was accepted.
      for (const at of [3, 24, 26, 40, secret.length - 1]) {
        await json(await t.call('GET', '/v1/sites/acme', { key: secret }), 200);
        const wrong = secret.slice(0, at) + (secret[at] === 'A' ? 'B' : 'A') + secret.slice(at + 1);
        await expectError(await t.call('GET', '/v1/sites/acme', { key: wrong }), 401, 'unauthorized');
      }
      await json(await t.call('GET', '/v1/sites/acme', { key: secret }), 200);
    });

    it('revokes a key: at once 401, revoking again is harmless, unknown keys are 404', async () => {
      const created = await json<Key>(await t.call('POST', '/v1/sites/acme/keys', { body: { name: 'temp', scopes: ['admin'] } }), 201);
      await json(await t.call('GET', '/v1/sites/acme', { key: created.secret! }), 200);

      const revoked = await json<Key>(await t.call('DELETE', `/v1/sites/acme/keys/${created.id}`), 200);
      assert.equal(revoked.id, created.id);
      assert.match(String(revoked.revokedAt), ISO);

      const res = await t.call('GET', '/v1/sites/acme', { key: created.secret! });
      await expectError(res, 401, 'unauthorized');
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);

      const again = await json<Key>(await t.call('DELETE', `/v1/sites/acme/keys/${created.id}`), 200);
      assert.equal(again.revokedAt, revoked.revokedAt, 'the first revocation time stays');

      const { keys } = await json<{ keys: Key[] }>(await t.call('GET', '/v1/sites/acme/keys'), 200);
      assert.equal(keys.find((k) => k.id === created.id)?.revokedAt, revoked.revokedAt);

      await expectError(await t.call('DELETE', '/v1/sites/acme/keys/AAAAAAAAAAAAAAAAAAAAAA'), 404, 'not_found');
      await expectError(await t.call('DELETE', '/v1/sites/acme/keys/short'), 400);
    });

    it('refuses keys without a name or scopes, or with unknown scopes', async () => {
      await expectError(await t.call('POST', '/v1/sites/acme/keys', { body: { name: 'x', scopes: [] } }), 400);
      const scope = await expectError(await t.call('POST', '/v1/sites/acme/keys', { body: { name: 'x', scopes: ['root'] } }), 400);
      assert.ok(scope.error.details.some((d) => d.field?.startsWith('scopes')));
      await expectError(await t.call('POST', '/v1/sites/acme/keys', { body: { scopes: ['check'] } }), 400);
      await expectError(await t.call('POST', '/v1/sites/acme/keys', { body: { name: 'x', scopes: ['check'], siteId: 'other' } }), 400);
    });
  });

  describe('audit log', () => {
    it('records admin actions, hash-chained, naming the key that acted', async () => {
      const { rows } = await t.database.client.execute({
        sql: 'SELECT seq, actor, action, target, prev_hash, hash FROM audit_log WHERE site_id = ? ORDER BY seq',
        args: ['acme'],
      });
      const actions = rows.map((r) => String(r.action));
      for (const a of ['site.update', 'purpose.create', 'purpose.update', 'wording.draft', 'wording.update', 'wording.publish', 'wording.retire', 'source.create', 'source.update', 'key.create', 'key.revoke']) {
        assert.ok(actions.includes(a), `audit has ${a}`);
      }
      rows.forEach((r, i) => {
        assert.equal(Number(r.seq), i + 1);
        if (i > 0) assert.equal(r.prev_hash, rows[i - 1]!.hash);
      });
      const byKey = rows.filter((r) => String(r.action) === 'key.revoke');
      assert.ok(byKey.every((r) => /^key:[A-Za-z0-9_-]{22}$/.test(String(r.actor))));
    });
  });
});
