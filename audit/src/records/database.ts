/**
 * The audit service's database: its Prisma client, and the definition the kit's `runSubgraph`
 * needs (migrations, client). The trail is not a projection of the log: it records what the bus
 * delivers (events and the gateway's mutations) as it arrives, hash-chained, and nothing may be
 * rebuilt over it. So its definition handles no event (the kit's projector only keeps a
 * checkpoint of how far the log goes), and it deliberately lives outside `src/projections/`,
 * where `npm run projections:rebuild` would find it and swap fresh, empty tables in.
 */
import { fileURLToPath } from 'node:url';
import type { ProjectionDefinition } from '@magasin/subgraph-kit';
import { PrismaPg } from '@prisma/adapter-pg';
import { type Prisma, PrismaClient } from '../generated/prisma/client.ts';

/** The service's Prisma client and its interactive transaction client. */
export type AuditPrisma = PrismaClient;
export type AuditTx = Prisma.TransactionClient;

const MIGRATIONS = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

/**
 * The PostgreSQL schema a URL's connections use (`options=-c search_path=<schema>`, as the kit
 * sets for a rebuild), so Prisma qualifies its queries with it rather than with `public`.
 */
const schemaOf = (databaseUrl: string): string | undefined =>
  /(?:^|\s)-c\s*search_path=([^\s,]+)/.exec(new URL(databaseUrl).searchParams.get('options') ?? '')?.[1];

/** A Prisma client on `databaseUrl` (driver adapter, no engine). */
export const createAuditPrisma = (databaseUrl: string, options: { schema?: string } = {}): AuditPrisma => {
  const schema = options.schema ?? schemaOf(databaseUrl);
  return new PrismaClient({
    adapter: new PrismaPg({ connectionString: databaseUrl }, schema ? { schema } : undefined),
  });
};

/** Migrations and client for the kit; no handlers (see the module comment). */
export const auditDatabase: ProjectionDefinition<AuditPrisma, AuditTx> = {
  name: 'audit',
  migrationsDirectory: MIGRATIONS,
  createPrisma: createAuditPrisma,
  handlers: {},
};
