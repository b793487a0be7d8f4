/**
 * The nats-server configuration file ecwatch writes: what has no command-line flag (subject
 * mappings, the MQTT listener, cluster routes). The rest stays on the command line.
 */

/** This node's part of a cluster (issue 9). */
export interface NatsClusterConfig {
  /** The cluster's name, the same on every node. */
  readonly name: string;
  /** Address this node listens on for routes, `host:port`. */
  readonly listen: string;
  /** Route URLs of the other nodes, `nats-route://host:port`. */
  readonly routes: readonly string[];
}

export interface NatsConfig {
  /** Subject mappings, source → destination (`partitionMappings()`): written always, the aggregator relies on them. */
  readonly mappings: Readonly<Record<string, string>>;
  /** Address of the MQTT listener, `host:port`; none without. */
  readonly mqttListen?: string;
  readonly cluster?: NatsClusterConfig;
}

/** A quoted string of the config format (its escapes are JSON's). */
const quote = (value: string): string => JSON.stringify(value);

/** The `mappings { … }` block, one quoted source and destination a line (also what docs/operating.md shows users). */
export function mappingsBlock(mappings: Readonly<Record<string, string>>): string {
  const lines = Object.entries(mappings).map(([source, destination]) => `  ${quote(source)}: ${quote(destination)}`);
  return `mappings {\n${lines.join("\n")}\n}\n`;
}

/** The text of a nats-server config file. */
export function natsConfig(config: NatsConfig): string {
  const blocks = [mappingsBlock(config.mappings)];
  if (config.mqttListen !== undefined) blocks.push(`mqtt {\n  listen: ${quote(config.mqttListen)}\n}\n`);
  if (config.cluster) {
    const { name, listen, routes } = config.cluster;
    const routeLines = routes.map((route) => `    ${quote(route)}\n`).join("");
    blocks.push(`cluster {\n  name: ${quote(name)}\n  listen: ${quote(listen)}\n  routes: [\n${routeLines}  ]\n}\n`);
  }
  return blocks.join("");
}
