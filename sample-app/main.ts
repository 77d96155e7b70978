// `npm start`: the auth and the orders service in one process; without REDIS_URL they share one
// in-memory revocation list (see launch).
import { launch } from './launch.js';

await launch(['auth', 'orders']);
