/** A return saga, live (saga subscription): refund, restock, record the refund, mark RETURNED. */
import { SagaProgressDocument } from '@magasin/events/operations';
import { ErrorMessage } from '../components/error-message.tsx';
import { useSubscription } from '../gateway/hooks.ts';
import { hrefOf } from '../routing.ts';
import { TimelineView } from '../timeline/timeline-view.tsx';

export const ReturnPage = ({ returnId }: { returnId: string }) => {
  const live = useSubscription(SagaProgressDocument, { id: returnId });
  const saga = live.data?.saga;
  return (
    <>
      <div className="page-title">
        <h1>Return</h1>
        <code className="id">{returnId}</code>
      </div>
      <p>
        <a href={hrefOf({ page: 'orders' })}>← Orders</a>
      </p>
      <ErrorMessage error={live.error} prefix="The live timeline stopped." />
      {!saga && !live.error && <p className="hint">Waiting for the return saga to start…</p>}
      {saga && <TimelineView saga={saga} />}
    </>
  );
};
