/**
 * Connection and in-flight request tracking of an HTTP server, so that shutdown can drain:
 * finish the requests being served, close keep-alive connections as they become idle, and
 * destroy whatever is left when the shutdown bound is reached.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionTracker {
  /** Requests being served now. */
  readonly inFlight: number;
  /**
   * From now on answer with `Connection: close` and close each connection once idle (idle ones
   * at once). Resolves when no request is in flight. Upgraded connections (WebSockets) are left
   * open: their owner closes them (in onShutdown).
   */
  drain(): Promise<void>;
  /** Destroys every connection still open, upgraded ones included. */
  destroyAll(): void;
}

/** Starts tracking `server`; call it before the request handler is attached. */
export function trackConnections(server: Server): ConnectionTracker {
  const active = new Map<Socket, number>(); // HTTP connection -> requests in flight on it
  const upgraded = new Set<Socket>();
  let inFlight = 0;
  let draining = false;
  let drained: (() => void) | undefined;

  server.on('connection', (socket: Socket) => {
    active.set(socket, 0);
    socket.once('close', () => active.delete(socket));
  });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    inFlight += 1;
    active.set(socket, (active.get(socket) ?? 0) + 1);
    if (draining) res.setHeader('connection', 'close');
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      inFlight -= 1;
      const left = (active.get(socket) ?? 1) - 1;
      active.set(socket, left);
      if (draining && left === 0) socket.destroySoon();
      if (draining && inFlight === 0) drained?.();
    };
    res.once('finish', finish);
    res.once('close', finish);
  });

  // Tracking of upgrades starts when someone handles them, so that a server without an
  // 'upgrade' handler keeps Node's default behaviour for Upgrade requests.
  const markUpgraded = (_req: IncomingMessage, socket: Socket) => {
    active.delete(socket);
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
  };
  server.on('newListener', (event, listener) => {
    if (event === 'upgrade' && listener !== markUpgraded && server.listeners('upgrade').length === 0) {
      server.prependListener('upgrade', markUpgraded);
    }
  });

  return {
    get inFlight() {
      return inFlight;
    },
    drain() {
      draining = true;
      for (const [socket, requests] of active) if (requests === 0) socket.destroySoon();
      return new Promise<void>((resolve) => {
        drained = resolve;
        if (inFlight === 0) resolve();
      });
    },
    destroyAll() {
      for (const socket of [...active.keys(), ...upgraded]) socket.destroy();
    },
  };
}
