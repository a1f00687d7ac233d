/**
 * @magasin/messaging: RabbitMQ topology, publisher with confirms, exactly-once-effect consumers
 * (inbox), retries with backoff, dead-letter queues, connection recovery, tracing and metrics.
 */
export {
  type CommandHandler,
  type ConsumeOptions,
  type Consumer,
  confirmSend,
  type EventHandler,
  type HandlerContext,
  HEADERS,
  isPermanentFailure,
} from './consumer.ts';
export {
  type DropRecord,
  dropParked,
  listParked,
  type ParkedMessage,
  replayParked,
  type Selection,
} from './dlq.ts';
export { MESSAGING_ERRORS, MessagingError, type MessagingErrorCode } from './errors.ts';
export type { Subscription } from './fanout.ts';
export {
  type BatchingInboxOptions,
  batchingPrismaInbox,
  INBOX_TABLE_SQL,
  type Inbox,
  type InboxOutcome,
  type PrismaClientLike,
  type PrismaQueryLike,
  type PrismaTransactionLike,
  pgInbox,
  prismaInbox,
  recordAfterInbox,
} from './inbox.ts';
export { currentMessage, type MessageContext } from './message-context.ts';
export {
  connectMessaging,
  type Messaging,
  type MessagingOptions,
  newCommand,
  type OutgoingMessage,
} from './messaging.ts';
export { type ConsumeOutcome, messagingMetrics } from './metrics.ts';
export {
  type Binding,
  DEFAULT_RETRY_POLICY,
  declareExchanges,
  declareServiceQueue,
  type QueueType,
  queueNames,
  type RetryPolicy,
  retryDelayMs,
} from './topology.ts';
