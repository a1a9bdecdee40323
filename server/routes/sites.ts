import { Hono } from 'hono';
import * as v from 'valibot';
import { Site, SiteId, SiteList, SitePatch } from '../../shared/api';
import { getSite, updateSite } from '../services/sites';
import { keyActor, requireScope } from '../http/auth';
import type { AppEnv } from '../http/env';
import { describeRoute, answers, bearer } from '../http/openapi';
import { jsonBody, validate } from '../http/validation';

export const SiteParam = v.object({ site: SiteId });
const tags = ['Sites'];

export const sitesRoutes = new Hono<AppEnv>()
  .get(
    '/sites',
    requireScope('admin'),
    describeRoute({ tags, summary: "The key's site", description: 'A key belongs to one site; the list holds that site. New sites are made with `samtykke site create`.', security: bearer, responses: answers(200, SiteList, 'Sites', 401, 403) }),
    async (c) => c.json({ sites: [await getSite(c.get('services'), c.get('key').siteId)] }),
  )
  .get(
    '/sites/:site',
    requireScope('admin'),
    describeRoute({ tags, summary: 'Get a site', security: bearer, responses: answers(200, Site, 'The site', 401, 403, 404) }),
    validate('param', SiteParam),
    async (c) => c.json(await getSite(c.get('services'), c.req.valid('param').site)),
  )
  .patch(
    '/sites/:site',
    requireScope('admin'),
    describeRoute({ tags, summary: 'Change site settings', security: bearer, responses: answers(200, Site, 'The changed site', 400, 401, 403, 404, 415) }),
    validate('param', SiteParam),
    ...jsonBody(SitePatch),
    async (c) => c.json(await updateSite(c.get('services'), c.req.valid('param').site, c.req.valid('json'), keyActor(c.get('key')))),
  );
