/** `npm run build -w @magasin/gateway`: bundles the playground into dist/playground. */
import { bundlePlayground, PLAYGROUND_DIST, writePlayground } from './bundle.ts';

const assets = await bundlePlayground();
writePlayground(assets);
process.stdout.write(`playground bundled into ${PLAYGROUND_DIST} (${assets.size} files)\n`);
