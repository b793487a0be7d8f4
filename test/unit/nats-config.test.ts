import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { partitionMappings } from "../../src/wire/names.js";
import { mappingsBlock, natsConfig } from "../../src/stack/nats-config.js";

const MAPPINGS = { "ec.*.net": "ecp.{{partition(8,1)}}.{{wildcard(1)}}.net" };

describe("nats-server config", () => {
  it("a single server gets the subject mappings and nothing else", () => {
    expect(natsConfig({ mappings: MAPPINGS })).toBe('mappings {\n  "ec.*.net": "ecp.{{partition(8,1)}}.{{wildcard(1)}}.net"\n}\n');
  });

  it("writes every mapping of partitionMappings(), keys and values quoted", () => {
    const text = natsConfig({ mappings: partitionMappings(8) });
    for (const [source, destination] of Object.entries(partitionMappings(8))) expect(text).toContain(`  "${source}": "${destination}"\n`);
  });

  it("opens the MQTT listener when asked", () => {
    expect(natsConfig({ mappings: MAPPINGS, mqttListen: "127.0.0.1:1883" })).toContain('\nmqtt {\n  listen: "127.0.0.1:1883"\n}\n');
  });

  it("a cluster node names its cluster, listens for routes and routes to the other nodes", () => {
    const text = natsConfig({
      mappings: MAPPINGS,
      cluster: { name: "ecwatch", listen: "127.0.0.1:6222", routes: ["nats-route://127.0.0.1:6223", "nats-route://127.0.0.1:6224"] },
    });
    expect(text).toContain(
      '\ncluster {\n  name: "ecwatch"\n  listen: "127.0.0.1:6222"\n  routes: [\n    "nats-route://127.0.0.1:6223"\n    "nats-route://127.0.0.1:6224"\n  ]\n}\n',
    );
    expect(text.startsWith("mappings {\n")).toBe(true);
    expect(text).not.toContain("mqtt");
  });

  it("escapes a quote in a value instead of ending the string", () => {
    expect(mappingsBlock({ 'a"b': "c" })).toContain('"a\\"b": "c"');
  });

  it("docs/operating.md shows users the mappings block ecwatch writes", () => {
    expect(readFileSync(new URL("../../docs/operating.md", import.meta.url), "utf8")).toContain(mappingsBlock(partitionMappings()));
  });
});
