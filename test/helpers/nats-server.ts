/** The bridge tests' server: the one `bench bridge` starts (bench/nats-server.ts). */
export { NatsServer, hasNatsServer } from '../../bench/nats-server.js';
