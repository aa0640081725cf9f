import { teardown } from './java-reaper.js';
export default teardown;
