/** Parses the agent's settings file (KEY="value" lines, as systemd's EnvironmentFile= reads them). */
export function parseEnvFile(text: string): Record<string, string>;
