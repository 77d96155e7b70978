// `npm run start:orders`: the orders service alone.
import { launch } from '../launch.js';

await launch(['orders']);
