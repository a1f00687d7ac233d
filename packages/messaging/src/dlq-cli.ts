/**
 * `npm run dlq -- list|replay|drop <service> [--id <messageId>] [--all] [--by <name>] [--url <amqp url>] [--json]`
 *
 * list: parked messages with id, type, routing key, attempts, error, parked-at.
 * replay: sends the selected messages back to the service (attempts reset).
 * drop: removes them, recording who dropped what in `<service>.dlq.dropped`.
 * Exit codes: 0 done, 1 failure, 2 usage error.
 */
import { parseArgs } from 'node:util';
import { dropParked, listParked, type ParkedMessage, replayParked, type Selection } from './dlq.ts';

const USAGE = `usage: npm run dlq -- list|replay|drop <service> [--id <messageId>] [--all] [--by <name>] [--url <amqp url>] [--json]
  list     show parked messages (id, type, routing key, attempts, error, parked-at)
  replay   send parked messages back to the service, attempts reset (needs --id or --all)
  drop     remove parked messages, recording who dropped what in <service>.dlq.dropped (needs --id or --all)`;

const usage = (problem: string): never => {
  process.stderr.write(`${problem}\n${USAGE}\n`);
  process.exit(2);
};

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    id: { type: 'string' },
    all: { type: 'boolean', default: false },
    by: { type: 'string' },
    url: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const [command, service] = positionals;
if (!command || !['list', 'replay', 'drop'].includes(command))
  usage(`unknown or missing command '${command ?? ''}'`);
if (!service) usage('missing <service> (e.g. inventory)');
const url = values.url ?? process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const queue = service as string;

const selection = (): Selection => {
  if (values.id && values.all) return usage('give either --id or --all, not both');
  if (values.id) return { id: values.id };
  if (values.all) return { all: true };
  return usage(`${command} needs --id <messageId> or --all`);
};

const table = (messages: ParkedMessage[]): string => {
  const rows = messages.map((message) => [
    message.messageId,
    message.type,
    message.routingKey,
    String(message.attempts),
    message.parkedAt,
    message.error.replace(/\s+/g, ' ').slice(0, 100),
  ]);
  const head = ['MESSAGE ID', 'TYPE', 'ROUTING KEY', 'ATTEMPTS', 'PARKED AT', 'ERROR'];
  const widths = head.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  return [head, ...rows]
    .map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  '))
    .join('\n');
};

try {
  if (command === 'list') {
    const parked = await listParked(url, queue);
    const shown = values.id ? parked.filter((message) => message.messageId === values.id) : parked;
    process.stdout.write(
      values.json
        ? `${JSON.stringify(shown, null, 2)}\n`
        : `${shown.length} parked in ${queue}.dlq\n${table(shown)}\n`,
    );
  } else if (command === 'replay') {
    const replayed = await replayParked(url, queue, selection());
    process.stdout.write(`${replayed.length} replayed to ${queue}\n${table(replayed)}\n`);
    if (values.id && replayed.length === 0) process.exitCode = 1;
  } else {
    const by = values.by ?? process.env.USER ?? process.env.LOGNAME ?? '';
    const records = await dropParked(url, queue, selection(), by);
    for (const record of records) process.stdout.write(`${JSON.stringify(record)}\n`);
    process.stdout.write(
      `${records.length} dropped from ${queue}.dlq by ${by}; recorded in ${queue}.dlq.dropped\n`,
    );
    if (values.id && records.length === 0) process.exitCode = 1;
  }
} catch (error) {
  process.stderr.write(`dlq ${command} ${queue} failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
