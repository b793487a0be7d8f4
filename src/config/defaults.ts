/** Where each service is reached when no flag, environment variable or running `ecwatch up` says otherwise (a leaf, for --help). */
export const DEFAULTS = {
  nats: "nats://127.0.0.1:4222",
  redis: "redis://127.0.0.1:6379",
  api: "http://127.0.0.1:8000",
  mqtt: "mqtt://127.0.0.1:1883",
} as const;
