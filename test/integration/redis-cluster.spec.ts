import { RedisCluster } from '../support/redis-topologies.js';
import { describeTopology } from './topology-suite.js';

describeTopology('Cluster', () => RedisCluster.start());
