/** The in-memory notify store lives with the simulator (bench/sim), which drives the dispatcher over it too. */
export { MemoryNotifyStore } from '../../bench/sim/memory-notify-store.ts';
