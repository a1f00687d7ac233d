/**
 * `npm run infra -- up` and `status`, also the first step of `npm start`: infrastructure
 * answering, RabbitMQ plugins on, one database per service. Every line printed says what was
 * done or that it was already there.
 */
import pg from 'pg';
import { ensureInfrastructure, type InfrastructureProbes, type Provenance } from './infrastructure.ts';
import {
  infrastructureUrls,
  isOnThisMachine,
  localProbes,
  maintenanceDatabaseUrl,
  reachPostgres,
  reachRabbitmq,
} from './infrastructure-probes.ts';
import {
  ensureRabbitmqPlugins,
  localPluginProbes,
  type PluginProbes,
  REQUIRED_PLUGINS,
} from './rabbitmq-plugins.ts';
import { ensureServiceDatabases, serviceDatabases } from './service-databases.ts';
import { discoverServices } from './workspaces.ts';

/** Options of bringInfrastructureUp and infrastructureStatus. */
export interface InfrastructureSetupOptions {
  /** Repository root whose workspaces declare the services. */
  readonly rootDir: string;
  /** Environment with the URLs. Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Receives each line to show. Default: console.log. */
  readonly print?: (line: string) => void;
  /** Replace the probes of this machine (tests). */
  readonly probes?: InfrastructureProbes;
  readonly pluginProbes?: PluginProbes;
}

/** What `up` did, for callers that want more than the printed lines. */
export interface InfrastructureSummary {
  readonly postgres: Provenance;
  readonly rabbitmq: Provenance;
  readonly plugins: 'already-enabled' | 'enabled' | 'unavailable';
  readonly databasesCreated: readonly string[];
  readonly databasesAlreadyThere: readonly string[];
}

const line = (subject: string, text: string) => `${subject.padEnd(9)} ${text}`;

/**
 * Brings the infrastructure up as the design says. Throws InfrastructureError (nothing can
 * provide PostgreSQL or RabbitMQ), ServiceDeclarationError or ServiceDatabaseError, each with
 * a message that says what to do.
 */
export const bringInfrastructureUp = async (
  options: InfrastructureSetupOptions,
): Promise<InfrastructureSummary> => {
  const env = options.env ?? process.env;
  const print = options.print ?? ((text: string) => console.log(text));
  const services = discoverServices(options.rootDir);
  const urls = infrastructureUrls(env);

  const provenance = await ensureInfrastructure(options.probes ?? localProbes(options.rootDir, env), {
    report: (subject, text) => print(line(subject, text)),
  });

  const plugins = await ensureRabbitmqPlugins(
    options.pluginProbes ??
      localPluginProbes(urls.RABBITMQ_MANAGEMENT_URL, isOnThisMachine(urls.RABBITMQ_URL)),
  );
  if (plugins.state === 'already-enabled')
    print(line('plugins', `${REQUIRED_PLUGINS.join(', ')} already enabled`));
  if (plugins.state === 'enabled') print(line('plugins', `enabled ${plugins.plugins.join(', ')}`));
  if (plugins.state === 'unavailable') print(line('plugins', `warning: ${plugins.advice}`));

  const databases = await ensureServiceDatabases(serviceDatabases(services, env));
  if (databases.length === 0) print(line('database', 'no service declares a database yet'));
  for (const database of databases) {
    const what = database.outcome === 'created' ? 'created' : 'already there';
    print(line('database', `${database.database} (${database.service}) ${what}`));
  }
  return {
    ...provenance,
    plugins: plugins.state,
    databasesCreated: databases
      .filter(({ outcome }) => outcome === 'created')
      .map(({ database }) => database),
    databasesAlreadyThere: databases
      .filter(({ outcome }) => outcome === 'already-there')
      .map(({ database }) => database),
  };
};

/**
 * Prints whether PostgreSQL and RabbitMQ answer, whether the plugins' endpoints answer and
 * which service databases exist, changing nothing. Resolves true when everything is in place.
 */
export const infrastructureStatus = async (options: InfrastructureSetupOptions): Promise<boolean> => {
  const env = options.env ?? process.env;
  const print = options.print ?? ((text: string) => console.log(text));
  const urls = infrastructureUrls(env);
  const services = discoverServices(options.rootDir);
  const [postgres, rabbitmq] = await Promise.all([
    reachPostgres(urls.DATABASE_URL),
    reachRabbitmq(urls.RABBITMQ_URL),
  ]);
  const describe = (reach: typeof postgres) =>
    reach.state === 'answering'
      ? 'answering'
      : `${reach.state === 'closed' ? 'down' : 'not answering'}: ${reach.reason}`;
  print(line('postgres', describe(postgres)));
  print(line('rabbitmq', describe(rabbitmq)));
  const pluginProbes =
    options.pluginProbes ??
    localPluginProbes(urls.RABBITMQ_MANAGEMENT_URL, isOnThisMachine(urls.RABBITMQ_URL));
  const endpoints = rabbitmq.state === 'answering' && (await pluginProbes.endpointsAnswer());
  print(
    line('plugins', endpoints ? 'management and prometheus endpoints answer' : 'endpoints do not answer'),
  );
  let databasesOk = true;
  const wanted = serviceDatabases(services, env);
  if (postgres.state === 'answering' && wanted.length > 0) {
    for (const database of wanted) {
      const client = new pg.Client({ connectionString: maintenanceDatabaseUrl(database.url) });
      await client.connect();
      try {
        const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
          database.database,
        ]);
        const present = rowCount === 1;
        databasesOk &&= present;
        print(
          line('database', `${database.database} (${database.service}) ${present ? 'present' : 'missing'}`),
        );
      } finally {
        await client.end();
      }
    }
  }
  return postgres.state === 'answering' && rabbitmq.state === 'answering' && endpoints && databasesOk;
};
