/** Types of test/java-reaper.js (plain JavaScript: jest runs global setup and teardown untransformed). */
export function setup(): void;
export function pidsWith(marker: string): number[];
export function teardown(): void;
