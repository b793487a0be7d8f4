import type { KV } from "@nats-io/kv";
import { natsCall } from "./nats-errors.js";

/** The energy day records in NATS KV (ENERGY_BUCKET), for HistoryStore's DayRecordSource; failures are NatsErrors. */
export class KvDayRecords {
  constructor(private readonly kv: KV) {}

  get(key: string): Promise<{ readonly operation?: string; string(): string } | null> {
    return natsCall(this.kv.get(key));
  }
}
