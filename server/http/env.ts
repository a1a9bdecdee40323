import type { AuthenticatedKey } from '../services/keys';
import type { Services } from '../app';

/** What middleware hands to handlers. */
export type AppEnv = {
  Variables: {
    services: Services;
    key: AuthenticatedKey;
    requestId: string;
  };
};
