/**
 * The gateway's GraphiQL playground, bundled by esbuild (no CDN): queries and mutations over
 * HTTP, subscriptions over graphql-ws on the same /graphql, the Authorization header set in
 * the headers editor, example operations preloaded. Configuration comes from the page.
 */
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { createRoot } from 'react-dom/client';
import 'graphiql/style.css';

const config = JSON.parse(document.getElementById('playground-config')?.textContent ?? '{}');

// Monaco runs its language services in workers the gateway serves beside this bundle.
globalThis.MonacoEnvironment = {
  getWorker(_workerId, label) {
    const worker = label === 'graphql' ? 'graphql' : label === 'json' ? 'json' : 'editor';
    return new Worker(
      new URL(`${worker}.worker.js`, new URL(config.assets ?? '/playground/', window.location.href)),
    );
  },
};
const endpoint = new URL(config.endpoint ?? '/graphql', window.location.href);
const socket = new URL(endpoint);
socket.protocol = endpoint.protocol === 'https:' ? 'wss:' : 'ws:';

const fetcher = createGraphiQLFetcher({
  url: endpoint.toString(),
  // The toolkit sends the headers editor's content as graphql-ws connection parameters, where
  // the gateway reads Authorization.
  subscriptionUrl: socket.toString(),
});

const root = document.getElementById('graphiql');
if (root) {
  createRoot(root).render(
    <GraphiQL
      fetcher={fetcher}
      defaultTabs={config.examples ?? []}
      defaultHeaders={config.headers ?? '{}'}
      defaultEditorToolsVisibility="headers"
      isHeadersEditorEnabled
      shouldPersistHeaders
    >
      <GraphiQL.Logo>Magasin</GraphiQL.Logo>
    </GraphiQL>,
  );
}
