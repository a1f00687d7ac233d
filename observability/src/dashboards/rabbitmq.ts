import type { DashboardSpec } from './grafana.ts';
import { sumRate } from './promql.ts';

/** RabbitMQ from its Prometheus plugin: throughput, queues (Magasin's vhost), the node. */
export const rabbitmq: DashboardSpec = {
  uid: 'magasin-rabbitmq',
  title: 'Magasin / RabbitMQ',
  description: 'The broker: connections, message rates, queue depths and consumers, memory and disk.',
  rows: [
    {
      title: 'Overview',
      panels: [
        {
          title: 'Connections',
          description: 'Client connections open.',
          kind: 'stat',
          queries: [{ expr: 'sum(rabbitmq_connections)' }],
        },
        {
          title: 'Channels',
          description: 'Channels open.',
          kind: 'stat',
          queries: [{ expr: 'sum(rabbitmq_channels)' }],
        },
        {
          title: 'Consumers',
          description: 'Consumers attached to queues.',
          kind: 'stat',
          queries: [{ expr: 'sum(rabbitmq_consumers)' }],
        },
        {
          title: 'Messages ready',
          description: 'Messages waiting in every queue.',
          kind: 'stat',
          queries: [{ expr: 'sum(rabbitmq_queue_messages_ready)' }],
        },
        {
          title: 'Messages unacked',
          description: 'Messages delivered and not yet acknowledged.',
          kind: 'stat',
          queries: [{ expr: 'sum(rabbitmq_queue_messages_unacked)' }],
        },
        {
          title: 'Alarms',
          description: 'Memory, disk or file descriptor alarms raised (publishers are blocked while one is).',
          kind: 'stat',
          queries: [
            {
              expr: 'sum(rabbitmq_alarms_memory_used_watermark) + sum(rabbitmq_alarms_free_disk_space_watermark) + sum(rabbitmq_alarms_file_descriptor_limit)',
            },
          ],
          redFrom: 1,
        },
      ],
    },
    {
      title: 'Throughput',
      panels: [
        {
          title: 'Messages through the broker',
          description: 'Received from publishers, routed to queues, delivered to consumers, acknowledged.',
          unit: 'ops',
          queries: [
            { expr: sumRate('rabbitmq_global_messages_received_total'), legend: 'received' },
            { expr: sumRate('rabbitmq_global_messages_routed_total'), legend: 'routed' },
            { expr: sumRate('rabbitmq_global_messages_delivered_total'), legend: 'delivered' },
            { expr: sumRate('rabbitmq_global_messages_acknowledged_total'), legend: 'acknowledged' },
          ],
        },
        {
          title: 'Confirms, unroutable and redelivered',
          description: 'Publisher confirms; messages no queue wanted (dropped or returned); redeliveries.',
          unit: 'ops',
          queries: [
            { expr: sumRate('rabbitmq_global_messages_confirmed_total'), legend: 'confirmed' },
            {
              expr: sumRate('rabbitmq_global_messages_unroutable_dropped_total'),
              legend: 'unroutable dropped',
            },
            {
              expr: sumRate('rabbitmq_global_messages_unroutable_returned_total'),
              legend: 'unroutable returned',
            },
            { expr: sumRate('rabbitmq_global_messages_redelivered_total'), legend: 'redelivered' },
          ],
        },
        {
          title: 'Dead-lettered',
          description:
            'Messages dead-lettered: expired is the retry queues handing messages back after their delay.',
          unit: 'ops',
          queries: [
            {
              expr: sumRate('rabbitmq_global_messages_dead_lettered_expired_total'),
              legend: 'expired (retries)',
            },
            { expr: sumRate('rabbitmq_global_messages_dead_lettered_rejected_total'), legend: 'rejected' },
            { expr: sumRate('rabbitmq_global_messages_dead_lettered_maxlen_total'), legend: 'max length' },
          ],
        },
      ],
    },
    {
      title: 'Queues',
      panels: [
        {
          title: 'Messages ready by queue',
          description: 'Depth of each queue of the vhost (service queues, retry queues, DLQs).',
          queries: [{ expr: 'sum by (queue) (rabbitmq_detailed_queue_messages_ready)', legend: '{{queue}}' }],
        },
        {
          title: 'Unacked by queue',
          description: 'Messages being handled in each queue.',
          queries: [
            { expr: 'sum by (queue) (rabbitmq_detailed_queue_messages_unacked)', legend: '{{queue}}' },
          ],
        },
        {
          title: 'Consumers by queue',
          description: 'Consumers on each queue: one per service replica on the service queues.',
          queries: [{ expr: 'sum by (queue) (rabbitmq_detailed_queue_consumers)', legend: '{{queue}}' }],
        },
        {
          title: 'Dead-letter queues',
          description: 'Messages parked in each <service>.dlq, as the broker counts them.',
          queries: [
            {
              expr: 'sum by (queue) (rabbitmq_detailed_queue_messages{queue=~".+[.]dlq"})',
              legend: '{{queue}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Node',
      panels: [
        {
          title: 'Memory',
          description: 'Memory used and the high watermark beyond which publishers are blocked.',
          unit: 'bytes',
          queries: [
            { expr: 'sum(rabbitmq_process_resident_memory_bytes)', legend: 'used' },
            { expr: 'sum(rabbitmq_resident_memory_limit_bytes)', legend: 'limit' },
          ],
        },
        {
          title: 'Disk',
          description: 'Free disk space and the limit under which publishers are blocked.',
          unit: 'bytes',
          queries: [
            { expr: 'sum(rabbitmq_disk_space_available_bytes)', legend: 'free' },
            { expr: 'sum(rabbitmq_disk_space_available_limit_bytes)', legend: 'limit' },
          ],
        },
        {
          title: 'File descriptors',
          description: 'Open file descriptors and the process limit.',
          queries: [
            { expr: 'sum(rabbitmq_process_open_fds)', legend: 'open' },
            { expr: 'sum(rabbitmq_process_max_fds)', legend: 'limit' },
          ],
        },
        {
          title: 'Connections opened and closed',
          description: 'Connection churn: clients reconnecting in a loop show here.',
          unit: 'ops',
          queries: [
            { expr: sumRate('rabbitmq_connections_opened_total'), legend: 'opened' },
            { expr: sumRate('rabbitmq_connections_closed_total'), legend: 'closed' },
          ],
        },
      ],
    },
  ],
};
