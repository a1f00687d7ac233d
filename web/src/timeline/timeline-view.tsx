/** A saga's live timeline: its outcome so far, then each step with its tone, time and detail. */
import type { OrderSummaryFragment, SagaTimelineFragment } from '@magasin/events/operations';
import { formatTime } from '../money.ts';
import { formatOffset, isTerminal, outcomeOf, stepViews } from './saga-timeline.ts';

const MARKERS: Readonly<Record<string, string>> = {
  done: '✓',
  failed: '✗',
  compensated: '↺',
  'timed-out': '◷',
  requested: '↺',
  retried: '↻',
  late: '!',
  'final-ok': '✓',
  'final-cancelled': '✗',
  'final-timed-out': '◷',
  unknown: '•',
};

export const TimelineView = ({
  saga,
  order,
}: {
  saga: SagaTimelineFragment;
  order?: Pick<OrderSummaryFragment, 'status' | 'cancellationReason'> | null;
}) => {
  const outcome = outcomeOf(saga, order);
  const steps = stepViews(saga);
  const ended = isTerminal(saga.status);
  return (
    <section className="timeline-panel" data-testid="saga-timeline" data-status={saga.status}>
      <div className={`outcome outcome-${outcome.tone}`} data-testid="saga-outcome" role="status">
        <span className="saga-status" data-testid="saga-status">
          {saga.status.replace('_', ' ')}
        </span>
        <div>
          <h2>{outcome.headline}</h2>
          <p>{outcome.explanation}</p>
        </div>
      </div>
      <ol className="timeline">
        {steps.map((step) => (
          <li
            key={step.key}
            className={`step step-${step.tone}`}
            data-testid="saga-step"
            data-step={step.name}
            data-status={step.status}
          >
            <span className="marker" aria-hidden="true">
              {MARKERS[step.tone] ?? '•'}
            </span>
            <div className="step-body">
              <div className="step-head">
                <strong>{step.title}</strong>
                <span className={`badge badge-${step.tone}`}>{step.badge}</span>
                <time dateTime={step.at} title={formatTime(step.at)}>
                  {formatOffset(step.offsetMs)}
                </time>
              </div>
              {step.detail && <p className="detail">{step.detail}</p>}
            </div>
          </li>
        ))}
        {!ended && (
          <li className="step step-pending" data-testid="saga-waiting">
            <span className="marker spinner" aria-hidden="true" />
            <div className="step-body">
              <em>{saga.status === 'COMPENSATING' ? 'Compensating…' : 'Waiting for the next step…'}</em>
            </div>
          </li>
        )}
      </ol>
      <p className="hint">
        Started {formatTime(saga.startedAt)}
        {saga.endedAt
          ? `, ended ${formatTime(saga.endedAt)} (${formatOffset(Math.max(0, Date.parse(saga.endedAt) - Date.parse(saga.startedAt)))})`
          : ''}
        .
      </p>
    </section>
  );
};
