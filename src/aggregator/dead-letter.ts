import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { DLQ_SUBJECT } from "../wire/names.js";

/** What goes to the dead-letter subject for a message that cannot be aggregated. */
export interface DeadLetter {
  readonly reason: string;
  readonly subject: string;
  readonly data: string;
}

const DEAD_LETTER_DATA_LIMIT = 64 * 1024;

export function deadLetterOf(msg: JsMsg, reason: string): DeadLetter {
  return { reason, subject: msg.subject, data: msg.string().slice(0, DEAD_LETTER_DATA_LIMIT) };
}

/** Stores a dead letter in EC_DLQ; resolves whether it was stored (the message is acknowledged only then). */
export function publishDeadLetter(js: JetStreamClient, msg: JsMsg, deadLetter: DeadLetter): Promise<boolean> {
  // The stream and its sequence as message id: a retried dead letter is stored once. The sequence
  // alone is not unique: every partition stream (and EC_STREAM) numbers its messages from 1, and
  // a dead letter of one would be dropped as a duplicate of another's (issue 10).
  return js.publish(DLQ_SUBJECT, JSON.stringify(deadLetter), { msgID: `dlq.${msg.info.stream}.${msg.seq}` }).then(
    () => true,
    () => false,
  );
}
