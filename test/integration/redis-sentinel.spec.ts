import { RedisSentinelGroup } from '../support/redis-topologies.js';
import { describeTopology } from './topology-suite.js';

describeTopology('Sentinel', () => RedisSentinelGroup.start());
