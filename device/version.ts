/** The agent's version, reported at registration and in status messages. */
export const AGENT_VERSION = '0.1.0';
