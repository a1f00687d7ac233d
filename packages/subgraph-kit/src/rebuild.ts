/**
 * Projection rebuilds: replay the whole log into fresh tables (a new schema of the service's
 * database, migrated like the live one), compare them with the live tables, and optionally
 * swap them in. `npm run projections:rebuild -- <service>` runs this.
 */
import type { EventStoreClient } from '@magasin/event-store/client';
import { migrate } from '@magasin/migrator';
import pg from 'pg';
import type { Logger } from 'pino';
import {
  applyPage,
  checkpointOf,
  KIT_TABLES,
  type ProjectionDefinition,
  type ProjectionPrisma,
  type ProjectionTx,
} from './projector.ts';

/** What a rebuild did. */
export interface RebuildResult {
  /** Schema holding the rebuilt tables (dropped after a swap). */
  schema: string;
  /** Position of the last event replayed. */
  position: number;
  /** Events read from the log. */
  events: number;
  /** Whether the rebuilt rows replaced the live ones. */
  swapped: boolean;
}

/** Options of {@link rebuildProjection}. */
export interface RebuildOptions<P extends ProjectionPrisma<Tx>, Tx extends ProjectionTx> {
  projection: ProjectionDefinition<P, Tx>;
  /** The service's (live) database. */
  databaseUrl: string;
  eventStore: EventStoreClient;
  logger?: Logger;
  /**
   * Replace the live rows with the rebuilt ones (default false: keep the rebuilt schema for
   * {@link diffProjection}). The swap locks the live checkpoint, brings the rebuilt tables to
   * at least the live position, and copies them over in one transaction; the running service
   * keeps serving and its projector resumes from the rebuilt checkpoint.
   */
  swap?: boolean;
  /** Replay only up to this position (default: the head of the log when the replay ends). */
  untilPosition?: number;
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** The database URL with every connection's search_path set to `schema`. */
export const withSearchPath = (databaseUrl: string, schema: string): string => {
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
};

const withClient = async <T>(databaseUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> => {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
};

/** Read-model tables of a schema (kit tables excluded), parents before the tables referencing them. */
export const readModelTables = async (
  client: pg.Client | pg.PoolClient,
  schema: string,
): Promise<string[]> => {
  const { rows: tables } = await client.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name`,
    [schema],
  );
  const { rows: references } = await client.query<{ child: string; parent: string }>(
    `SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent
       FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
      WHERE c.contype = 'f' AND n.nspname = $1`,
    [schema],
  );
  const bare = (name: string) => name.replace(/^.*\./, '').replaceAll('"', '');
  const names = tables.map((t) => t.name).filter((name) => !(KIT_TABLES as readonly string[]).includes(name));
  const ordered: string[] = [];
  const visit = (name: string, path: Set<string>) => {
    if (ordered.includes(name) || path.has(name)) return;
    path.add(name);
    for (const { child, parent } of references) {
      if (bare(child) === name && bare(parent) !== name) visit(bare(parent), path);
    }
    ordered.push(name);
  };
  for (const name of names) visit(name, new Set());
  return ordered.filter((name) => names.includes(name));
};

const replay = async <P extends ProjectionPrisma<Tx>, Tx extends ProjectionTx>(
  prisma: P,
  projection: ProjectionDefinition<P, Tx>,
  eventStore: EventStoreClient,
  from: number,
  until: number | undefined,
): Promise<{ position: number; events: number }> => {
  let position = from;
  let events = 0;
  for (;;) {
    const page = await eventStore.readAll(position, { limit: 1_000 });
    const wanted = until === undefined ? page.events : page.events.filter((e) => e.position <= until);
    position = await applyPage(prisma, projection, position, wanted);
    events += wanted.length;
    if (!page.hasMore || wanted.length < page.events.length || page.events.length === 0) {
      return { position, events };
    }
  }
};

/** Replays the log into a fresh schema; see {@link RebuildOptions}. */
export const rebuildProjection = async <P extends ProjectionPrisma<Tx>, Tx extends ProjectionTx>(
  options: RebuildOptions<P, Tx>,
): Promise<RebuildResult> => {
  const { projection, databaseUrl, eventStore } = options;
  const schema = `rebuild_${projection.name.replace(/\W/g, '_')}_${Date.now()}`;
  await withClient(databaseUrl, (client) => client.query(`CREATE SCHEMA ${quote(schema)}`));
  const rebuiltUrl = withSearchPath(databaseUrl, schema);
  await migrate({ databaseUrl: rebuiltUrl, migrationsDirectory: projection.migrationsDirectory });
  const prisma = projection.createPrisma(rebuiltUrl, { schema });
  try {
    await checkpointOf(prisma, projection.name);
    let { position, events } = await replay(prisma, projection, eventStore, 0, options.untilPosition);
    options.logger?.info({ schema, position, events }, 'projection replayed');
    if (!options.swap) return { schema, position, events, swapped: false };

    await withClient(databaseUrl, async (client) => {
      await client.query('BEGIN');
      try {
        // Holding the live checkpoint stops the live projector between two pages.
        await client.query('LOCK TABLE public.projection_checkpoints IN EXCLUSIVE MODE');
        const live = await client.query<{ position: string }>(
          'SELECT position FROM public.projection_checkpoints WHERE name = $1',
          [projection.name],
        );
        const livePosition = Number(live.rows[0]?.position ?? 0);
        if (livePosition > position) {
          const more = await replay(prisma, projection, eventStore, position, livePosition);
          position = more.position;
          events += more.events;
        }
        const tables = await readModelTables(client, schema);
        if (tables.length > 0) {
          await client.query(`TRUNCATE ${tables.map((t) => `public.${quote(t)}`).join(', ')}`);
        }
        for (const table of tables) {
          await client.query(
            `INSERT INTO public.${quote(table)} SELECT * FROM ${quote(schema)}.${quote(table)}`,
          );
        }
        await resetSequences(client, tables);
        await client.query(
          `INSERT INTO public.projection_checkpoints (name, position) VALUES ($1, $2)
           ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = now()`,
          [projection.name, position],
        );
        await client.query(`DROP SCHEMA ${quote(schema)} CASCADE`);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    });
    options.logger?.info({ position, events }, 'rebuilt projection swapped in');
    return { schema, position, events, swapped: true };
  } finally {
    await prisma.$disconnect();
  }
};

/** Moves every serial/identity sequence of `tables` (public) past the copied rows. */
const resetSequences = async (client: pg.Client, tables: string[]): Promise<void> => {
  for (const table of tables) {
    const { rows } = await client.query<{ column: string; sequence: string }>(
      `SELECT column_name AS column, pg_get_serial_sequence($1, column_name) AS sequence
         FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = $2
          AND pg_get_serial_sequence($1, column_name) IS NOT NULL`,
      [`public.${quote(table)}`, table],
    );
    for (const { column, sequence } of rows) {
      await client.query(
        `SELECT setval($1, coalesce((SELECT max(${quote(column)}) FROM public.${quote(table)}), 0) + 1, false)`,
        [sequence],
      );
    }
  }
};

/** Options of {@link diffProjection}. */
export interface DiffOptions {
  databaseUrl: string;
  /** The rebuilt schema (from {@link rebuildProjection}). */
  schema: string;
  /** Schema of the live tables; default 'public'. */
  liveSchema?: string;
  /** Tables to leave out of the comparison. */
  ignore?: string[];
  /** Also drop the rebuilt schema afterwards (default true). */
  dropAfter?: boolean;
}

/**
 * Compares every read-model table of the live schema with the rebuilt one, row by row (as
 * sets of whole rows). Returns one line per difference, empty when they are equal.
 */
export const diffProjection = async (options: DiffOptions): Promise<string[]> =>
  withClient(options.databaseUrl, async (client) => {
    const live = options.liveSchema ?? 'public';
    const differences: string[] = [];
    try {
      const liveTables = await readModelTables(client, live);
      const rebuiltTables = await readModelTables(client, options.schema);
      const ignored = new Set(options.ignore ?? []);
      for (const table of new Set([...liveTables, ...rebuiltTables])) {
        if (ignored.has(table)) continue;
        if (!liveTables.includes(table) || !rebuiltTables.includes(table)) {
          differences.push(`${table}: exists only in ${liveTables.includes(table) ? live : options.schema}`);
          continue;
        }
        for (const [a, b] of [
          [live, options.schema],
          [options.schema, live],
        ] as const) {
          const { rows } = await client.query(
            `SELECT to_jsonb(t) AS row FROM (SELECT * FROM ${quote(a)}.${quote(table)} EXCEPT ALL SELECT * FROM ${quote(b)}.${quote(table)}) t LIMIT 5`,
          );
          for (const { row } of rows) differences.push(`${table}: only in ${a}: ${JSON.stringify(row)}`);
        }
      }
      return differences;
    } finally {
      if (options.dropAfter ?? true)
        await client.query(`DROP SCHEMA IF EXISTS ${quote(options.schema)} CASCADE`);
    }
  });
