/** A migrated, isolated event store database for one test file. */
import { fileURLToPath } from 'node:url';
import { newEventId } from '@magasin/events';
import { migrate } from '@magasin/migrator';
import { createTestDatabase, type TestDatabase } from '@magasin/test-kit';
import { PrismaPg } from '@prisma/adapter-pg';
import { Registry } from 'prom-client';
import { PrismaClient } from '../src/generated/prisma/client.ts';
import { createEventStore, type EventStore } from '../src/store/event-store.ts';
import type { NewEvent } from '../src/store/types.ts';

/** The event store's migrations directory. */
export const MIGRATIONS = fileURLToPath(new URL('../prisma/migrations', import.meta.url));

export interface StoreFixture {
  database: TestDatabase;
  prisma: PrismaClient;
  registry: Registry;
  store: EventStore;
  /** Another store on the same database: a second replica's writer. */
  openStore(): EventStore;
  close(): Promise<void>;
}

/** Creates and migrates a database and opens an event store on it. */
export const openStoreFixture = async (label: string): Promise<StoreFixture> => {
  const database = await createTestDatabase(label);
  await migrate({ databaseUrl: database.url, migrationsDirectory: MIGRATIONS });
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: database.url }) });
  const registry = new Registry();
  const opened: EventStore[] = [];
  const openStore = () => {
    const store = createEventStore({ databaseUrl: database.url, registry });
    opened.push(store);
    return store;
  };
  const store = openStore();
  return {
    database,
    prisma,
    registry,
    store,
    openStore,
    close: async () => {
      await Promise.all(opened.map((each) => each.close()));
      await prisma.$disconnect();
      await database.drop();
    },
  };
};

/** A valid `StockReserved` event for `orderId`. */
export const stockReserved = (overrides: Partial<NewEvent> = {}): NewEvent => {
  const orderId = newEventId();
  return {
    eventId: newEventId(),
    type: 'StockReserved',
    data: { orderId, items: [{ productId: 'p-1', quantity: 1 }] },
    correlationId: orderId,
    actor: 'test',
    ...overrides,
  };
};
