/** The WebSocket's trouble, said plainly: lost and reconnecting, back, or refused. */
import { useEffect, useState } from 'react';
import { useConnection } from '../gateway/hooks.ts';

/** How long "reconnected" stays on screen. */
const RECONNECTED_NOTICE_MS = 4_000;

export const ConnectionBanner = ({ onSignOut }: { onSignOut: () => void }) => {
  const connection = useConnection();
  const [showReconnected, setShowReconnected] = useState(false);
  useEffect(() => {
    if (connection.kind !== 'connected' || !connection.reconnected) return;
    setShowReconnected(true);
    const timer = setTimeout(() => setShowReconnected(false), RECONNECTED_NOTICE_MS);
    return () => clearTimeout(timer);
  }, [connection]);

  switch (connection.kind) {
    case 'reconnecting':
      return (
        <div
          className="banner warning"
          role="status"
          data-testid="connection-banner"
          data-state="reconnecting"
        >
          Connection to the gateway lost ({connection.reason}). Reconnecting automatically
          {connection.attempt > 1 ? ` (attempt ${connection.attempt})` : ''}… Live updates resume once it is
          back.
        </div>
      );
    case 'refused':
      return (
        <div className="banner error" role="alert" data-testid="connection-banner" data-state="refused">
          The gateway refused your session ({connection.reason}).{' '}
          <button type="button" className="link" onClick={onSignOut}>
            Sign in again
          </button>
        </div>
      );
    case 'connected':
      return showReconnected ? (
        <div className="banner ok" role="status" data-testid="connection-banner" data-state="reconnected">
          Reconnected: live updates resumed.
        </div>
      ) : null;
    default:
      return null;
  }
};
