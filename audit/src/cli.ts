/**
 * `npm run audit -- export [--from <ISO date>] [--to <ISO date>] [--out <file>]`: writes the
 * records recorded in the range (both ends inclusive, each optional) as NDJSON, to stdout or
 * `--out`, in chain order, verifiable (see records/export.ts).
 * `npm run audit -- verify`: checks the whole chain; prints the verdict as JSON, exit 1 when broken.
 * The database is the service's (`AUDIT_DATABASE_URL`, else `DATABASE_URL` + /magasin_audit).
 * Exit 2 on a usage error, naming it.
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { serviceDatabaseUrl } from '@magasin/service-kit';
import { createAuditPrisma } from './records/database.ts';
import { exportTrail } from './records/export.ts';
import { verifyIntegrity } from './records/integrity.ts';

const USAGE =
  'usage: npm run audit -- export [--from <ISO date>] [--to <ISO date>] [--out <file>]\n' +
  '       npm run audit -- verify';

class UsageError extends Error {}

const dateOption = (name: string, value: string | undefined): Date | undefined => {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) {
    throw new UsageError(`--${name} must be an ISO-8601 date or date-time, got ${JSON.stringify(value)}`);
  }
  return date;
};

/** Runs the command in `argv` (without node and the script); resolves the exit code. */
export const runAuditCli = async (
  argv: readonly string[],
  io: { env?: NodeJS.ProcessEnv; stdout: Writable; stderr: Writable },
): Promise<number> => {
  try {
    const parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' } },
    });
    const [command, ...extra] = parsed.positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument ${extra.join(' ')}`);
    if (command !== 'export' && command !== 'verify') {
      throw new UsageError(command ? `unknown command ${command}` : 'which command?');
    }
    const from = dateOption('from', parsed.values.from);
    const to = dateOption('to', parsed.values.to);
    if (from && to && from > to) throw new UsageError('--from is after --to');
    const prisma = createAuditPrisma(serviceDatabaseUrl('magasin_audit', io.env ?? process.env));
    try {
      if (command === 'verify') {
        const verdict = await verifyIntegrity(prisma);
        io.stdout.write(`${JSON.stringify(verdict)}\n`);
        return verdict.valid ? 0 : 1;
      }
      const out = parsed.values.out ? createWriteStream(parsed.values.out) : io.stdout;
      const count = await exportTrail(prisma, out, { from, to });
      if (parsed.values.out) {
        out.end();
        await finished(out);
      }
      io.stderr.write(
        `${count} audit records exported${parsed.values.out ? ` to ${parsed.values.out}` : ''}\n`,
      );
      return 0;
    } finally {
      await prisma.$disconnect();
    }
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error as { code?: unknown }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
    ) {
      io.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
      return 2;
    }
    throw error;
  }
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runAuditCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
  });
}
