// `npm run start:auth`: the auth service alone.
import { launch } from '../launch.js';

await launch(['auth']);
