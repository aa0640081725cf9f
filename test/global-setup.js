import { setup } from './java-reaper.js';
export default setup;
