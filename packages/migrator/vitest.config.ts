import { mergeConfig } from 'vitest/config';
import { testConfig } from '../../vitest.shared.ts';

// The fixture clients are only needed by the normal phase (this package has no fault tests).
const faults = process.env.MAGASIN_TEST_PHASE === 'faults';

export default mergeConfig(testConfig(), {
  test: { globalSetup: faults ? [] : ['test/generate-fixture-clients.ts'] },
});
