import { expect } from '@open-wc/testing';
import { adminCall } from './helpers';

describe('the real server inside the test runner', () => {
  it('serves the config of site acme with cache headers', async () => {
    const res = await fetch('/v1/sites/acme/config?lang=en', { credentials: 'omit' });
    expect(res.status).to.equal(200);
    expect(res.headers.get('etag')).to.match(/^"/);
    expect(res.headers.get('cache-control')).to.contain('max-age');
    const config = await res.json();
    expect(config.site).to.equal('acme');
    expect(config.categories.map((c: { key: string }) => c.key)).to.include.members(['necessary', 'preferences', 'statistics', 'marketing']);
  });

  it('answers admin commands with the site key', async () => {
    const res = await adminCall('acme', 'GET', '/v1/sites/acme');
    expect(res.status).to.equal(200);
    expect(res.body.id).to.equal('acme');
  });
});
