import { Hono } from 'hono';
import * as v from 'valibot';
import { NewPurpose, Purpose, PurposeKey, PurposeList, PurposePatch, SiteId, WordingDraft, WordingList, WordingVersion } from '../../shared/api';
import { createPurpose, getPurpose, listPurposes, updatePurpose } from '../services/purposes';
import { createDraft, getWording, listWordings, publishWording, retireWording, updateDraft } from '../services/wordings';
import { keyActor, requireScope } from '../http/auth';
import type { AppEnv } from '../http/env';
import { describeRoute, answers, bearer } from '../http/openapi';
import { jsonBody, validate } from '../http/validation';

const PurposeParam = v.object({ site: SiteId, purpose: PurposeKey });
const VersionParam = v.object({
  site: SiteId,
  purpose: PurposeKey,
  version: v.pipe(v.string(), v.regex(/^[1-9]\d{0,8}$/, 'must be a version number'), v.transform(Number)),
});
const SiteParam = v.object({ site: SiteId });
const tags = ['Purposes and wordings'];

export const purposesRoutes = new Hono<AppEnv>()
  .get(
    '/sites/:site/purposes',
    requireScope('admin'),
    describeRoute({ tags, summary: 'List purposes', description: "Each purpose with its legal basis, channel and current published wording.", security: bearer, responses: answers(200, PurposeList, 'Purposes', 401, 403, 404) }),
    validate('param', SiteParam),
    async (c) => c.json({ purposes: await listPurposes(c.get('services'), c.req.valid('param').site) }),
  )
  .post(
    '/sites/:site/purposes',
    requireScope('admin'),
    describeRoute({ tags, summary: 'Create a purpose', description: 'Key, channel and legal basis are fixed once created. Publish a wording before consents can be granted.', security: bearer, responses: answers(201, Purpose, 'Created', 400, 401, 403, 404, 409, 415) }),
    validate('param', SiteParam),
    ...jsonBody(NewPurpose),
    async (c) => c.json(await createPurpose(c.get('services'), c.req.valid('param').site, c.req.valid('json'), keyActor(c.get('key'))), 201),
  )
  .get(
    '/sites/:site/purposes/:purpose',
    requireScope('admin'),
    describeRoute({ tags, summary: 'Get a purpose', security: bearer, responses: answers(200, Purpose, 'The purpose', 401, 403, 404) }),
    validate('param', PurposeParam),
    async (c) => c.json(await getPurpose(c.get('services'), c.req.valid('param').site, c.req.valid('param').purpose)),
  )
  .patch(
    '/sites/:site/purposes/:purpose',
    requireScope('admin'),
    describeRoute({ tags, summary: "Change a purpose's name or description", security: bearer, responses: answers(200, Purpose, 'The changed purpose', 400, 401, 403, 404, 415) }),
    validate('param', PurposeParam),
    ...jsonBody(PurposePatch),
    async (c) => {
      const { site, purpose } = c.req.valid('param');
      return c.json(await updatePurpose(c.get('services'), site, purpose, c.req.valid('json'), keyActor(c.get('key'))));
    },
  )
  .get(
    '/sites/:site/purposes/:purpose/wordings',
    requireScope('admin'),
    describeRoute({ tags, summary: 'List wording versions', description: 'Newest first, drafts included.', security: bearer, responses: answers(200, WordingList, 'Wording versions', 401, 403, 404) }),
    validate('param', PurposeParam),
    async (c) => c.json({ wordings: await listWordings(c.get('services'), c.req.valid('param').site, c.req.valid('param').purpose) }),
  )
  .post(
    '/sites/:site/purposes/:purpose/wordings',
    requireScope('admin'),
    describeRoute({ tags, summary: 'Draft a new wording version', description: 'Texts per language. A draft can be changed until it is published.', security: bearer, responses: answers(201, WordingVersion, 'The draft', 400, 401, 403, 404, 415) }),
    validate('param', PurposeParam),
    ...jsonBody(WordingDraft),
    async (c) => {
      const { site, purpose } = c.req.valid('param');
      return c.json(await createDraft(c.get('services'), site, purpose, c.req.valid('json').texts, keyActor(c.get('key'))), 201);
    },
  )
  .get(
    '/sites/:site/purposes/:purpose/wordings/:version',
    requireScope('admin'),
    describeRoute({ tags, summary: 'Get a wording version', security: bearer, responses: answers(200, WordingVersion, 'The version', 400, 401, 403, 404) }),
    validate('param', VersionParam),
    async (c) => {
      const { site, purpose, version } = c.req.valid('param');
      return c.json(await getWording(c.get('services'), site, purpose, version));
    },
  )
  .put(
    '/sites/:site/purposes/:purpose/wordings/:version',
    requireScope('admin'),
    describeRoute({ tags, summary: "Replace a draft's texts", description: 'Only drafts; a published version is immutable (409).', security: bearer, responses: answers(200, WordingVersion, 'The draft', 400, 401, 403, 404, 409, 415) }),
    validate('param', VersionParam),
    ...jsonBody(WordingDraft),
    async (c) => {
      const { site, purpose, version } = c.req.valid('param');
      return c.json(await updateDraft(c.get('services'), site, purpose, version, c.req.valid('json').texts, keyActor(c.get('key'))));
    },
  )
  .post(
    '/sites/:site/purposes/:purpose/wordings/:version/publish',
    requireScope('admin'),
    describeRoute({ tags, summary: 'Publish a draft', description: "Freezes the text, stores each language's SHA-256 and makes it the purpose's current wording. Needs a text in the site's default language.", security: bearer, responses: answers(200, WordingVersion, 'Published', 400, 401, 403, 404, 409) }),
    validate('param', VersionParam),
    async (c) => {
      const { site, purpose, version } = c.req.valid('param');
      return c.json(await publishWording(c.get('services'), site, purpose, version, keyActor(c.get('key'))));
    },
  )
  .post(
    '/sites/:site/purposes/:purpose/wordings/:version/retire',
    requireScope('admin'),
    describeRoute({ tags, summary: 'Retire a published version', description: 'No new grants may name it; consents already given keep pointing at it.', security: bearer, responses: answers(200, WordingVersion, 'Retired', 400, 401, 403, 404, 409) }),
    validate('param', VersionParam),
    async (c) => {
      const { site, purpose, version } = c.req.valid('param');
      return c.json(await retireWording(c.get('services'), site, purpose, version, keyActor(c.get('key'))));
    },
  );
