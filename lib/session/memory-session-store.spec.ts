import { describeSessionStore } from '../../test/contracts/session-store.contract.js';
import { MemorySessionStore } from './memory-session-store.js';

describeSessionStore('in-memory', async () => {
  let clock = 1_700_000_000;
  const now = () => clock;
  const store = new MemorySessionStore(now);
  return {
    open: () => store,
    now,
    advance: async (seconds) => {
      clock += seconds;
    },
    footprint: async () => ({ entries: store.size }),
    close: () => store.close(),
  };
});
