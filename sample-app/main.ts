// `npm start`: the auth and the orders service in one process (in-memory stores shared).
import { launch } from './launch.js';

await launch(['auth', 'orders']);
