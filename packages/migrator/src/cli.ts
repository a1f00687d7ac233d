/**
 * `tsx packages/migrator/src/cli.ts <service-dir>...`: creates each service's database if
 * missing and applies its pending migrations, one line per service. Exits 1 with the
 * migrator's message on the first failure (later services are not migrated), 2 on usage.
 */
import { MigrationError } from './errors.ts';
import { migrateService } from './service.ts';

const serviceDirs = process.argv.slice(2);
if (serviceDirs.length === 0) {
  console.error('usage: tsx packages/migrator/src/cli.ts <service-dir>...');
  process.exit(2);
}

for (const dir of serviceDirs) {
  try {
    const result = await migrateService(dir, { log: (line) => console.log(`  ${line}`) });
    if (result.status === 'no-database') {
      console.log(`${result.service}: no database declared, nothing to migrate`);
    } else {
      console.log(
        `${result.service}: ${result.database} up to date (${result.applied.length} applied now, ${result.alreadyApplied.length} before)`,
      );
    }
  } catch (error) {
    if (error instanceof MigrationError) {
      console.error(`${dir}: ${error.code}: ${error.message}`);
    } else {
      console.error(`${dir}: migration failed:`, error);
    }
    process.exit(1);
  }
}
