/**
 * Commands one service sends another on `magasin.commands`, routing key `<service>.<CommandName>`
 * (the orchestrator asking payment for a refund, ...). They land in the same command handlers
 * as mutations.
 */
import { z } from 'zod';
import { RecordMutation } from './audit.ts';
import { cents, id, isoDateTime, quantity } from './envelope.ts';

/** Services that receive commands. */
export const COMMAND_SERVICES = ['store', 'inventory', 'payment', 'transaction', 'saga', 'audit'] as const;
/** A service that receives commands. */
export type CommandService = (typeof COMMAND_SERVICES)[number];

const items = z.array(z.object({ productId: id, quantity })).min(1);

const command = <S extends z.ZodType>(service: CommandService, schema: S) => ({ service, schema });

/** Every command, with the service that handles it and its payload contract. */
export const COMMAND_CONTRACTS = {
  ReleaseStock: command('inventory', z.object({ orderId: id, reason: z.string().min(1) })),
  RestockItems: command('inventory', z.object({ orderId: id, returnId: id, items })),
  RefundPayment: command(
    'payment',
    z.object({ orderId: id, paymentId: id.optional(), returnId: id.nullable(), amountCents: cents }),
  ),
  CancelOrder: command(
    'store',
    z.object({
      orderId: id,
      reason: z.enum(['STOCK_UNAVAILABLE', 'PAYMENT_DECLINED', 'SAGA_TIMED_OUT', 'CUSTOMER_REQUEST']),
    }),
  ),
  MarkOrderReturned: command('store', z.object({ orderId: id, returnId: id })),
  RecordRefund: command('transaction', z.object({ orderId: id, returnId: id, amountCents: cents })),
  /** A mutation the gateway accepted or refused, for the audit trail (see `audit.ts`). */
  RecordMutation: command('audit', RecordMutation),
} as const;

type Commands = typeof COMMAND_CONTRACTS;
/** Every command name. */
export type CommandType = keyof Commands;
/** The payload of a command. */
export type CommandPayloadOf<C extends CommandType> = z.infer<Commands[C]['schema']>;

/** Fields of every command on the bus; `payload` is validated against the contract of `type`. */
export const commandEnvelopeSchema = z.object({
  commandId: id,
  type: z.string().min(1),
  correlationId: id,
  causationId: id.nullable(),
  actor: z.string().min(1),
  issuedAt: isoDateTime,
  traceparent: z.string().nullable(),
  payload: z.unknown(),
});

/** A command as sent on the bus. */
export interface CommandEnvelope<C extends string = string, P = unknown> {
  commandId: string;
  type: C;
  correlationId: string;
  causationId: string | null;
  actor: string;
  issuedAt: string;
  traceparent: string | null;
  payload: P;
}
/** A typed command envelope. */
export type CommandOf<C extends CommandType> = CommandEnvelope<C, CommandPayloadOf<C>>;
/** Any Magasin command, discriminated on `type`. */
export type DomainCommand = { [C in CommandType]: CommandOf<C> }[CommandType];

/** Whether `type` names a known command. */
export const isCommandType = (type: string): type is CommandType => Object.hasOwn(COMMAND_CONTRACTS, type);

/** `<service>.<CommandName>`, e.g. 'payment.RefundPayment'. Throws for an unknown command. */
export const commandRoutingKeyFor = (type: string): string => {
  if (!isCommandType(type)) {
    throw Object.assign(new Error(`unknown command '${type}': add it to schema/events/commands.ts`), {
      code: 'UNKNOWN_COMMAND_TYPE',
    });
  }
  return `${COMMAND_CONTRACTS[type].service}.${type}`;
};

/** Validates a command as received from the bus: envelope fields, then payload against its contract. */
export const parseCommand = (
  raw: unknown,
): { ok: true; command: CommandEnvelope } | { ok: false; reason: string } => {
  const envelope = commandEnvelopeSchema.safeParse(raw);
  if (!envelope.success) {
    return { ok: false, reason: `command envelope: ${envelope.error.issues.map(formatIssue).join('; ')}` };
  }
  const { type } = envelope.data;
  if (!isCommandType(type)) return { ok: false, reason: `unknown command type '${type}'` };
  const payload = COMMAND_CONTRACTS[type].schema.safeParse(envelope.data.payload);
  if (!payload.success)
    return { ok: false, reason: `${type}: ${payload.error.issues.map(formatIssue).join('; ')}` };
  return { ok: true, command: { ...envelope.data, payload: payload.data } };
};

const formatIssue = (issue: z.core.$ZodIssue): string =>
  `${issue.path.join('.') || '(root)'}: ${issue.message}`;
