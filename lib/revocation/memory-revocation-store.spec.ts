import { describeRevocationStore } from '../../test/contracts/revocation-store.contract.js';
import { MemoryRevocationStore } from './memory-revocation-store.js';

describeRevocationStore('in-memory', async () => {
  let clock = 1_700_000_000;
  const store = new MemoryRevocationStore({ now: () => clock, clockToleranceSeconds: 0 });
  return {
    store,
    now: () => clock,
    advance: async (seconds) => {
      clock += seconds;
    },
    close: () => store.close(),
  };
});
