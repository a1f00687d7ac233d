/** The audit service's configuration, read once at start-up. */
import { env } from '@magasin/service-kit';
import { loadSubgraphConfig, type SubgraphConfig } from '@magasin/subgraph-kit';

/** Service name: queue, database `magasin_audit`, event-store caller. */
export const SERVICE = 'audit';

/** `AUDIT_ERASURE_SECRET` outside production when unset. */
export const DEV_ERASURE_SECRET = 'magasin-dev-audit-erasure-secret';

/** The audit service's configuration. */
export type AuditConfig = SubgraphConfig & {
  /** Key of the erased identifiers' keyed hashes (the suppression list); required in production. */
  AUDIT_ERASURE_SECRET: string;
};

/**
 * Reads and validates the environment (`AUDIT_PORT`, default 4007; `AUDIT_DATABASE_URL`, else
 * `DATABASE_URL` + /magasin_audit; `AUDIT_ERASURE_SECRET`; RABBITMQ_URL, EVENT_STORE_URL,
 * INTERNAL_SECRET, LOG_LEVEL); throws ConfigError naming every bad variable.
 */
export const loadAuditConfig = (environment: NodeJS.ProcessEnv = process.env): AuditConfig =>
  loadSubgraphConfig(
    SERVICE,
    { portEnv: 'AUDIT_PORT', port: 4007, extra: { AUDIT_ERASURE_SECRET: env.secret(DEV_ERASURE_SECRET) } },
    environment,
  );
